/**
 * The policy YAML front end (src/policy/yaml-tree.ts, js-yaml) against the `yaml` package as an
 * oracle: the same values and the same start offsets for every node, so diagnostics and the
 * bundle's rule positions do not depend on which parser read the file.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Node, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { generatePolicy } from '../../bench/micro/authz/policy-gen.js';
import { type YamlNode, parseYamlTree } from '../../src/policy/yaml-tree.js';

const kRoot = join(import.meta.dirname, '..', '..', '..');

/** Every difference between the tree and the oracle's node, as "path: what" lines. */
function differences(ours: YamlNode | null, theirs: Node | null | undefined, path = '$'): string[] {
  if (theirs === null || theirs === undefined) {
    return ours === null || (ours.kind === 'scalar' && ours.value === null) ? [] : [`${path}: not empty`];
  }
  if (ours === null) return [`${path}: missing`];
  const out: string[] = [];
  if (ours.offset !== theirs.range?.[0] && !(isScalar(theirs) && theirs.value === null)) {
    out.push(`${path}: offset ${ours.offset}, oracle ${theirs.range?.[0]}`);
  }
  if (isMap(theirs)) {
    if (ours.kind !== 'map' || ours.pairs.length !== theirs.items.length) return [...out, `${path}: mapping`];
    theirs.items.forEach((pair, i) => {
      out.push(...differences(ours.pairs[i]!.key, pair.key as Node, `${path}.key${i}`));
      out.push(...differences(ours.pairs[i]!.value, pair.value as Node | null, `${path}.${String(pair.key)}`));
    });
  } else if (isSeq(theirs)) {
    if (ours.kind !== 'seq' || ours.items.length !== theirs.items.length) return [...out, `${path}: list`];
    theirs.items.forEach((item, i) => out.push(...differences(ours.items[i]!, item as Node, `${path}[${i}]`)));
  } else if (isScalar(theirs)) {
    if (ours.kind !== 'scalar' || ours.value !== theirs.value) {
      out.push(`${path}: value ${JSON.stringify(ours.kind === 'scalar' ? ours.value : ours.kind)}, oracle ${JSON.stringify(theirs.value)}`);
    }
  } else {
    out.push(`${path}: an oracle node of another kind`);
  }
  return out;
}

function policyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return policyFiles(full);
    return /\.ya?ml$/.test(name) ? [full] : [];
  });
}

describe('policy/yaml-tree', () => {
  test('policy/yaml-tree the repository\'s policies and generated ones read the same as with the yaml package', () => {
    const texts: Array<[string, string]> = [
      ...['examples/policy', 'test/server/fixtures/policy-realistic', 'test/policy/golden']
        .flatMap((d) => policyFiles(join(kRoot, d))).map((f): [string, string] => [f, readFileSync(f, 'utf8')]),
      ['generated 50 rules', generatePolicy(50, 10, 1).yaml],
      ['generated 1,000 rules', generatePolicy(1000, 10, 2).yaml],
    ];
    assert.ok(texts.length >= 10, 'the corpus is the repository\'s policies, not an empty list');
    for (const [name, text] of texts) {
      assert.deepEqual(differences(parseYamlTree(text), parseDocument(text).contents), [], name);
    }
  });

  test('policy/yaml-tree YAML forms a hand-written policy uses read the same', () => {
    // Why each: block style with comments between entries; a list at its parent's indentation;
    // quoted keys and values with escapes; literal and folded block scalars; an empty value;
    // a multi-line flow mapping; CRLF line ends; core-schema numbers, booleans and nulls.
    const forms = [
      'version: 1\n# roles first\nroles:\n  # an admin\n  admin:\n    inherits: [user]  # trailing\n  user: {}\n',
      'rules:\n- id: a\n  paths:\n  - /x\n  - "/y"\n',
      '"quoted key": \'it\'\'s\'\n"esc": "tab\\tnewline\\n"\n',
      'description: |\n  line one\n  line two\nfolded: >\n  a\n  b\n',
      'roles:\n  empty:\n  next: {}\n',
      'rule: { id: a,\n  effect: allow,\n  paths: [\n    /a, /b ] }\n',
      'version: 1\r\nroles:\r\n  r: {}\r\n',
      'n: 42\nf: 1.5\nb: true\nB: False\nz: ~\ns: "42"\nh: 0x1F\n',
    ];
    for (const text of forms) {
      assert.deepEqual(differences(parseYamlTree(text), parseDocument(text).contents), [], JSON.stringify(text));
    }
  });

  test('policy/yaml-tree a repeated key stays in the tree for the reader to report', () => {
    const tree = parseYamlTree('roles:\n  a: {}\n  a: {}\n');
    assert.ok(tree !== null && tree.kind === 'map');
    const roles = tree.pairs[0]!.value;
    assert.equal(roles.kind, 'map');
    assert.deepEqual(roles.kind === 'map' ? roles.pairs.map((p) => [p.key.kind === 'scalar' && p.key.value, p.key.offset]) : [],
      [['a', 9], ['a', 17]]);
  });

  test('policy/yaml-tree an empty file is no document', () => {
    assert.equal(parseYamlTree(''), null);
    assert.equal(parseYamlTree('# only a comment\n'), null);
  });
});
