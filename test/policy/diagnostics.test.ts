/**
 * Every compiler error and warning, one case each: the code, its severity, and the line it
 * points at. Cases are small policies; `rule(...)` wraps rule YAML in a valid file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePolicy, type Diagnostic, PolicyCompileError } from '../../src/policy/index.js';

const kHead = 'version: 1\nroles:\n  reader: {}\n  editor: { inherits: [reader] }\nrules:\n';
/** A file whose rules start at line 6. */
const rules = (yaml: string): string => kHead + yaml;

function diagnose(text: string, more: { name: string; text: string }[] = []): Diagnostic[] {
  try {
    return [...compilePolicy([{ name: 'p.yaml', text }, ...more], { createdAtMs: 0 }).diagnostics];
  } catch (err) {
    if (err instanceof PolicyCompileError) return [...err.diagnostics];
    throw err;
  }
}

const kOk = "  - { id: ok, effect: allow, who: anyone, paths: ['/a'] }\n";

const kCases: { why: string; text: string; code: number; line: number; severity?: string;
  more?: { name: string; text: string }[] }[] = [
  { why: 'broken YAML cannot be read', text: 'version: 1\nrules: [\n', code: 100, line: 3 },
  { why: 'rules must be a list', text: 'version: 1\nrules: { a: 1 }\n', code: 101, line: 2 },
  {
    why: 'a misspelt key is refused, not ignored',
    text: rules("  - { id: a, effect: allow, who: anyone, path: ['/a'] }\n"), code: 102, line: 6,
  },
  {
    why: 'a rule needs paths', text: rules('  - { id: a, effect: allow, who: anyone }\n'),
    code: 103, line: 6,
  },
  {
    why: 'effect is allow or deny',
    text: rules("  - { id: a, effect: permit, who: anyone, paths: ['/a'] }\n"), code: 104, line: 6,
  },
  {
    why: 'methods are upper-case literals',
    text: rules("  - { id: a, effect: allow, who: anyone, methods: [get], paths: ['/a'] }\n"),
    code: 104, line: 6,
  },
  {
    why: '** only at the end',
    text: rules("  - { id: a, effect: allow, who: anyone, paths: ['/a/**/b'] }\n"), code: 105,
    line: 6,
  },
  {
    why: 'a partial wildcard is ambiguous',
    text: rules("  - { id: a, effect: allow, who: anyone, paths: ['/a*'] }\n"), code: 105, line: 6,
  },
  {
    why: 'a CIDR must parse',
    text: rules("  - { id: a, effect: allow, who: anyone, paths: ['/a'], when: { source: ['10.0.0.0/33'] } }\n"),
    code: 106, line: 6,
  },
  {
    why: 'hours must be HH:MM-HH:MM',
    text: rules("  - { id: a, effect: allow, who: anyone, paths: ['/a'], when: { time: { hours: '9-17' } } }\n"),
    code: 107, line: 6,
  },
  {
    why: 'the version is declared once', text: kHead + kOk,
    more: [{ name: 'q.yaml', text: 'version: 2\n' }], code: 108, line: 1,
  },
  { why: 'a policy needs a version', text: 'rules: []\n', code: 108, line: 1 },
  {
    why: 'a rule may not name an undefined role',
    text: rules("  - { id: a, effect: allow, who: { roles: [writer] }, paths: ['/a'] }\n"),
    code: 200, line: 6,
  },
  {
    why: 'inheritance may not loop',
    text: 'version: 1\nroles:\n  a: { inherits: [b] }\n  b: { inherits: [a] }\n', code: 201,
    line: 3,
  },
  {
    why: 'rule ids are unique',
    text: rules(kOk + "  - { id: ok, effect: deny, who: anyone, paths: ['/b'] }\n"), code: 202,
    line: 7,
  },
  {
    why: 'a compared parameter must be bound',
    text: rules("  - { id: a, effect: allow, who: anyone, paths: ['/t/{x}'], when: { claim: tenant, equals: { path: tenant } } }\n"),
    code: 203, line: 6,
  },
  {
    why: 'a dot segment never reaches the policy',
    text: rules("  - { id: a, effect: deny, who: anyone, paths: ['/a/../admin'] }\n"), code: 204,
    line: 6,
  },
  {
    why: 'lower-case escapes are never canonical',
    text: rules("  - { id: a, effect: deny, who: anyone, paths: ['/a%2fb'] }\n"), code: 204,
    line: 6,
  },
  {
    why: 'an escaped unreserved character is decoded first',
    text: rules("  - { id: a, effect: deny, who: anyone, paths: ['/%61dmin'] }\n"), code: 204,
    line: 6,
  },
  {
    why: 'a later allow under a broader deny never decides',
    text: rules("  - { id: d, effect: deny, who: anyone, paths: ['/a/**'] }\n  - { id: a, effect: allow, who: anyone, paths: ['/a/b'] }\n"),
    code: 205, line: 7, severity: 'warning',
  },
  {
    why: 'a key repeated in one mapping is refused where it repeats',
    text: 'version: 1\nroles:\n  a: {}\n  a: {}\n', code: 102, line: 4,
  },
  {
    why: 'a role defined in two files is an error', text: kHead + kOk,
    more: [{ name: 'q.yaml', text: 'roles:\n  reader: {}\n' }], code: 206, line: 2,
  },
  {
    why: 'a condition may not trust a client-sent identity header',
    text: rules("  - { id: a, effect: allow, who: anyone, paths: ['/a'], when: { header: X-Forwarded-User, equals: admin } }\n"),
    code: 208, line: 6,
  },
  {
    why: 'a condition may not read the raw credential',
    text: rules("  - { id: a, effect: allow, who: anyone, paths: ['/a'], when: { header: authorization, prefix: Basic } }\n"),
    code: 208, line: 6,
  },
  {
    why: 'an obligation may not set a proxy-owned header',
    text: rules("  - { id: a, effect: allow, who: anyone, paths: ['/a'], obligations: { headers: { x-forwarded-for: x } } }\n"),
    code: 207, line: 6,
  },
];

describe('policy/diagnostics', () => {
  for (const c of kCases) {
    test(`PC${c.code}: ${c.why}`, () => {
      const found = diagnose(c.text, c.more).find((d) => d.code === c.code);
      assert.ok(found !== undefined, `expected PC${c.code}, got ${JSON.stringify(diagnose(c.text, c.more))}`);
      assert.equal(found.severity, c.severity ?? 'error');
      assert.equal(found.pos.line, c.line);
    });
  }

  test('a warning does not stop the build; an error does', () => {
    const warned = compilePolicy([{ name: 'p.yaml', text: kCases.find((c) => c.code === 205)!.text }],
      { createdAtMs: 0 });
    assert.ok(warned.bytes.length > 0);
    assert.throws(() => compilePolicy([{ name: 'p.yaml', text: rules("  - { id: a, effect: allow, who: { roles: [x] }, paths: ['/a'] }\n") }],
      { createdAtMs: 0 }), PolicyCompileError);
  });

  test('an allow after a broader allow is shadowed; a deny after an allow is not', () => {
    const text = rules("  - { id: all, effect: allow, who: anyone, paths: ['/a/*'] }\n" +
      "  - { id: one, effect: allow, who: { roles: [reader] }, methods: [GET], paths: ['/a/{id}'] }\n" +
      "  - { id: no, effect: deny, who: anyone, paths: ['/a/x'] }\n");
    const shadowed = diagnose(text).filter((d) => d.code === 205).map((d) => d.pos.line);
    assert.deepEqual(shadowed, [7]);
  });
});

describe('policy/diagnostics limits', () => {
  test('PC100: anchors and aliases are refused, so no "billion laughs" expansion is possible', () => {
    // One anchor and one use: even the smallest alias is an error, at the anchored node.
    const text = 'version: 1\nroles:\n  r: { inherits: &a [p] }\n  p: {}\n' +
      'assignments:\n  - { role: p, groups: *a }\n';
    const found = diagnose(text).filter((d) => d.code === 100);
    assert.deepEqual(found.map((d) => [d.pos.line, d.pos.column]), [[3, 18]]);
  });

  test('PC100: invalid YAML is reported at the line and column the parser stopped', () => {
    // Line 0: the parser names no place. Why each: a tab indent, an unclosed flow list, a second document, a custom tag, a key
    // without a value in a flow mapping, and nesting deep enough to exhaust a recursive parser.
    const cases: Array<[string, number]> = [
      ['version: 1\nrules:\n\t- { id: a }\n', 3],
      ['version: 1\nroles: { r: [a, b }\n', 2],
      ['version: 1\n---\nversion: 2\n', 0],
      ['version: !custom 1\n', 1],
      ['version: 1\nroles: { r }\n', 2],
      [`version: 1\nroles: ${'['.repeat(20000)}\n`, 0],
    ];
    for (const [text, line] of cases) {
      const found = diagnose(text).filter((d) => d.code === 100);
      assert.equal(found.length, 1, JSON.stringify(text.slice(0, 40)));
      if (line > 0) assert.equal(found[0]!.pos.line, line, JSON.stringify(text.slice(0, 40)));
    }
  });

  test('policy/parse: a byte-order mark does not shift line and column numbers', () => {
    const text = '\ufeffversion: 1\nroles:\n  r: { inherits: [ghost] }\n';
    const undefinedRole = diagnose(text).find((d) => d.code === 200);
    assert.ok(undefinedRole !== undefined, 'the undefined role is reported');
    assert.deepEqual([undefinedRole.pos.line, undefinedRole.pos.column], [3, 3]);
  });

  test('PC109: a folder without policy files', () => {
    try {
      compilePolicy([], { createdAtMs: 0 });
      assert.fail('compiled nothing');
    } catch (err) {
      assert.ok(err instanceof PolicyCompileError);
      assert.equal(err.diagnostics[0]?.code, 109);
    }
  });

  test('PC300: more than 512 claims and headers read by conditions', () => {
    const conds = Array.from({ length: 513 }, (_, i) => `{ claim: c${i}, equals: v }`).join(', ');
    const text = rules(`  - { id: a, effect: allow, who: anyone, paths: ['/a'], when: { any: [${conds}] } }\n`);
    assert.ok(diagnose(text).some((d) => d.code === 300));
  });

  test('PC301: more than 65,536 roles', () => {
    const roles = Array.from({ length: 65_537 }, (_, i) => `  r${i}: {}`).join('\n');
    assert.ok(diagnose(`version: 1\nroles:\n${roles}\nrules: []\n`).some((d) => d.code === 301));
  });
});
