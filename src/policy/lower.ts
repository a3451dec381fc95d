/**
 * Pass 3, lower: the checked policy to a decision tree image and a string table (3xx diagnostics).
 *
 * Algorithm. Every string the tree compares (service and method names, literal path segments,
 * subject and assignment values, condition values) gets an id: service names first (ids 1..S, so
 * the service lookup is an array index), then methods, then the rest, each group sorted, so the
 * same policy always gives the same ids. For each service (plus a fallback for services no rule
 * names) and each method (plus a fallback for other methods), the rules that can apply are
 * inserted into a trie over path segments. A trie node lists the rules whose pattern ends there
 * and those whose `**` starts there, denies first, each group in rule order, so the evaluator can
 * stop at the first rule that applies. Subject and condition code is emitted once per rule.
 */
import type { DiagnosticSink } from './diagnostics.js';
import type { CheckedPolicy } from './check.js';
import { parseCidr } from './ip-address.js';
import type { Condition, Rule, SubjectMatcher } from './model.js';
import {
  kAssignKind, kCondOp, kEffectAllow, kEffectDeny, kKindCode, kMaxAttributes, kMaxRoles,
  kMaxTreeWords, kNode, kSubjectOp, kTreeFlags, kTreeHeader, kTreeLayoutVersion, kTreeMagic,
} from './tree-layout.js';
import { WordWriter } from './word-writer.js';

/** An attribute slot: which claim or header the host writes at that index. */
export interface AttributeSlot {
  readonly source: 'claim' | 'header';
  readonly name: string;
  /** The evaluator needs the value's bytes (a prefix test), not only its id. */
  readonly needsBytes: boolean;
}

/** What lowering produces. */
export interface LoweredPolicy {
  /** The string table; index = id. Entry 0 is '' and id 0 means "absent". */
  readonly strings: readonly string[];
  readonly serviceCount: number;
  readonly attributes: readonly AttributeSlot[];
  readonly roles: readonly string[];
  readonly tree: Uint32Array;
}

interface TrieNode {
  readonly lits: Map<number, TrieNode>;
  star: TrieNode | undefined;
  readonly leaf: Set<Rule>;
  readonly glob: Set<Rule>;
}

const newNode = (): TrieNode => ({ lits: new Map(), star: undefined, leaf: new Set(), glob: new Set() });
const byCode = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function conditionStrings(c: Condition, out: Set<string>): void {
  if (c.op === 'all' || c.op === 'any') c.of.forEach((x) => conditionStrings(x, out));
  else if (c.op === 'not') conditionStrings(c.of, out);
  else if (c.op === 'equals') out.add(c.value);
  else if (c.op === 'in') c.values.forEach((v) => out.add(v));
}

function conditionAttributes(c: Condition, out: Map<string, AttributeSlot>): void {
  if (c.op === 'all' || c.op === 'any') return c.of.forEach((x) => conditionAttributes(x, out));
  if (c.op === 'not') return conditionAttributes(c.of, out);
  if (!('attr' in c)) return;
  const key = `${c.attr.source}:${c.attr.name}`;
  const prev = out.get(key);
  out.set(key, { ...c.attr, needsBytes: (prev?.needsBytes ?? false) || c.op === 'prefix' });
}

/** Builds the string table: services, then methods, then everything else, each sorted. */
function buildStrings(policy: CheckedPolicy): { strings: string[]; serviceCount: number } {
  const services = new Set<string>();
  const methods = new Set<string>();
  const rest = new Set<string>();
  for (const r of policy.rules) {
    r.services?.forEach((s) => services.add(s));
    r.methods?.forEach((m) => methods.add(m));
    for (const p of r.paths) for (const s of p.segments) if (s.kind === 'literal') rest.add(s.value);
    for (const m of r.subjects) {
      if ('value' in m && m.kind !== 'role' && m.kind !== 'credential') rest.add(m.value);
    }
    if (r.condition !== undefined) conditionStrings(r.condition, rest);
  }
  for (const a of policy.assignments) if (a.kind !== 'credential') rest.add(a.value);
  const first = [...services].sort(byCode);
  const second = [...methods].filter((m) => !services.has(m)).sort(byCode);
  const taken = new Set([...first, ...second, '']);
  const third = [...rest].filter((s) => !taken.has(s)).sort(byCode);
  return { strings: ['', ...first, ...second, ...third], serviceCount: first.length };
}

/** Lowers `policy`; reports 3xx diagnostics to `sink` (the result is then unusable). */
export function lowerPolicy(policy: CheckedPolicy, sink: DiagnosticSink): LoweredPolicy {
  const { strings, serviceCount } = buildStrings(policy);
  const ids = new Map(strings.map((s, i) => [s, i]));
  const id = (s: string): number => ids.get(s)!;
  const roles = [...policy.roleClosure.keys()].sort(byCode);
  const roleIndex = new Map(roles.map((r, i) => [r, i]));
  const at = policy.rules[0]?.pos ?? { file: '.', line: 1, column: 1 };
  if (roles.length > kMaxRoles) sink.error(301, at, `${roles.length} roles; at most ${kMaxRoles}`);

  const attrMap = new Map<string, AttributeSlot>();
  for (const r of policy.rules) if (r.condition !== undefined) conditionAttributes(r.condition, attrMap);
  const attrKeys = [...attrMap.keys()].sort(byCode);
  const attributes = attrKeys.map((k) => attrMap.get(k)!);
  const slot = new Map(attrKeys.map((k, i) => [k, i]));
  if (attributes.length > kMaxAttributes) {
    sink.error(300, at, `conditions read ${attributes.length} claims and headers; at most ${kMaxAttributes}`);
  }

  const w = new WordWriter();
  const header = w.alloc(kTreeHeader.size);
  let flags = 0;

  // Step 1: per-rule code (subjects, condition, body), shared by every list that holds the rule.
  const emitSubjects = (ms: readonly SubjectMatcher[]): number => {
    if (ms.some((m) => m.kind === 'anyone')) return 0;
    const off = w.alloc(1 + ms.length * 2);
    w.set(off, ms.length);
    ms.forEach((m, i) => {
      let arg = 0;
      if (m.kind === 'role') {
        arg = roleIndex.get(m.value)!;
        flags |= kTreeFlags.roles;
      } else if (m.kind === 'credential') {
        arg = kKindCode[m.value];
      } else if ('value' in m) {
        arg = id(m.value);
      }
      w.set(off + 1 + i * 2, kSubjectOp[m.kind]);
      w.set(off + 2 + i * 2, arg);
    });
    return off;
  };
  const emitCondition = (c: Condition): number => {
    switch (c.op) {
      case 'all':
      case 'any': {
        const kids = c.of.map(emitCondition);
        return w.push([kCondOp[c.op], kids.length, ...kids]);
      }
      case 'not':
        return w.push([kCondOp.not, emitCondition(c.of)]);
      case 'equals':
        return w.push([kCondOp.equals, slot.get(`${c.attr.source}:${c.attr.name}`)!, id(c.value)]);
      case 'in': {
        const set = [...new Set(c.values.map(id))].sort((a, b) => a - b);
        return w.push([kCondOp.in, slot.get(`${c.attr.source}:${c.attr.name}`)!, set.length, ...set]);
      }
      case 'prefix': {
        const bytes = new TextEncoder().encode(c.value);
        return w.push([kCondOp.prefix, slot.get(`${c.attr.source}:${c.attr.name}`)!, bytes.length,
          ...WordWriter.packBytes(bytes)]);
      }
      case 'equals-param':
        return w.push([kCondOp.equalsSegment, slot.get(`${c.attr.source}:${c.attr.name}`)!, c.segment]);
      case 'cidr': {
        flags |= kTreeFlags.address;
        const words: number[] = [kCondOp.cidr, c.ranges.length];
        for (const text of c.ranges) {
          const r = parseCidr(text)!;
          words.push(...WordWriter.packBytes(r.bytes), r.prefixBits);
        }
        return w.push(words);
      }
      case 'time': {
        const t = c.window;
        const off = w.push([kCondOp.time, t.days, t.fromMinute, t.toMinute, t.utcOffsetMinutes >>> 0,
          0, 0, 0, 0]);
        w.setF64(off + 5, t.notBeforeMs);
        w.setF64(off + 7, t.notAfterMs);
        return off;
      }
    }
  };
  const ruleBody = new Map<Rule, number>();
  for (const r of policy.rules) {
    const subjects = emitSubjects(r.subjects);
    const condition = r.condition === undefined ? 0 : emitCondition(r.condition);
    const effect = r.effect === 'allow' ? kEffectAllow : kEffectDeny;
    ruleBody.set(r, w.push([r.index, effect, subjects, condition]));
  }

  // Step 2: tries per service and method, rule lists shared when equal.
  const lists = new Map<string, number>();
  const emitList = (set: Set<Rule>): number => {
    if (set.size === 0) return 0;
    const sorted = [...set].sort((a, b) => (a.effect === b.effect ? a.index - b.index
      : a.effect === 'deny' ? -1 : 1));
    const key = sorted.map((r) => r.index).join(',');
    const known = lists.get(key);
    if (known !== undefined) return known;
    const off = w.push([sorted.length, ...sorted.map((r) => ruleBody.get(r)!)]);
    lists.set(key, off);
    return off;
  };
  const emitTrie = (node: TrieNode): number => {
    const lits = [...node.lits.entries()].sort((a, b) => a[0] - b[0]);
    const children = lits.map(([, child]) => emitTrie(child));
    const pairs = lits.length === 0 ? 0 : w.push(lits.flatMap(([segId], i) => [segId, children[i]!]));
    const star = node.star === undefined ? 0 : emitTrie(node.star);
    return w.push([lits.length, pairs, star, emitList(node.leaf), emitList(node.glob)]);
  };
  const buildTrie = (rules: readonly Rule[]): number => {
    if (rules.length === 0) return 0;
    const root = newNode();
    for (const r of rules) {
      for (const p of r.paths) {
        let node = root;
        let isGlob = false;
        for (const s of p.segments) {
          if (s.kind === 'glob') {
            node.glob.add(r);
            isGlob = true;
            break;
          }
          if (s.kind === 'literal') {
            const key = id(s.value);
            let next = node.lits.get(key);
            if (next === undefined) node.lits.set(key, next = newNode());
            node = next;
          } else {
            node = node.star ??= newNode();
          }
        }
        if (!isGlob) node.leaf.add(r);
      }
    }
    return emitTrie(root);
  };
  const emitMethods = (rules: readonly Rule[]): number => {
    if (rules.length === 0) return 0;
    const named = [...new Set(rules.flatMap((r) => r.methods ?? []))].map(id).sort((a, b) => a - b);
    const anyTrie = buildTrie(rules.filter((r) => r.methods === undefined));
    const tries = named.map((m) => buildTrie(rules.filter((r) => r.methods === undefined
      || r.methods.some((x) => id(x) === m))));
    return w.push([named.length, anyTrie, ...named.flatMap((m, i) => [m, tries[i]!])]);
  };
  const byService = new Map<string, Rule[]>();
  const anyService: Rule[] = [];
  for (const r of policy.rules) {
    if (r.services === undefined) {
      anyService.push(r);
      for (const list of byService.values()) list.push(r);
      continue;
    }
    for (const s of r.services) {
      let list = byService.get(s);
      if (list === undefined) byService.set(s, list = [...anyService]);
      list.push(r);
    }
  }
  const serviceTries = [emitMethods(anyService)];
  for (let s = 1; s <= serviceCount; s++) serviceTries.push(emitMethods(byService.get(strings[s]!) ?? []));
  const serviceTable = w.push(serviceTries);

  // Step 3: role assignments, sorted by (kind, value id), each with its role closure.
  const entries = policy.assignments.map((a) => ({
    kind: kAssignKind[a.kind],
    value: a.kind === 'credential' ? kKindCode[a.value as keyof typeof kKindCode] : id(a.value),
    roles: policy.roleClosure.get(a.role) ?? [],
  }));
  const merged = new Map<string, { kind: number; value: number; roles: Set<number> }>();
  for (const e of entries) {
    const key = `${e.kind}:${e.value}`;
    const m = merged.get(key) ?? { kind: e.kind, value: e.value, roles: new Set<number>() };
    e.roles.forEach((r) => m.roles.add(roleIndex.get(r)!));
    merged.set(key, m);
  }
  const sortedEntries = [...merged.values()].sort((a, b) => a.kind - b.kind || a.value - b.value);
  const roleLists = sortedEntries.map((e) => {
    const list = [...e.roles].sort((a, b) => a - b);
    return w.push([list.length, ...list]);
  });
  const assignmentTable = w.push([sortedEntries.length,
    ...sortedEntries.flatMap((e, i) => [e.kind, e.value, roleLists[i]!])]);

  // Step 4: the header.
  w.set(header + kTreeHeader.magic, kTreeMagic);
  w.set(header + kTreeHeader.layout, kTreeLayoutVersion);
  w.set(header + kTreeHeader.stringCount, strings.length);
  w.set(header + kTreeHeader.serviceCount, serviceCount);
  w.set(header + kTreeHeader.serviceTable, serviceTable);
  w.set(header + kTreeHeader.roleCount, roles.length);
  w.set(header + kTreeHeader.assignmentTable, assignmentTable);
  w.set(header + kTreeHeader.flags, flags);
  w.set(header + kTreeHeader.attributeCount, attributes.length);
  w.set(header + kTreeHeader.ruleCount, policy.rules.length);
  if (w.length > kMaxTreeWords) {
    sink.error(302, at, `decision tree of ${w.length} words; at most ${kMaxTreeWords}`);
  }
  return { strings, serviceCount, attributes, roles, tree: w.finish() };
}
