/**
 * Parsing of a rule's `when:` block into a `Condition`. One mapping is one condition:
 *
 *   { all: [..] } { any: [..] } { not: {..} }
 *   { claim: NAME, equals: STR | { path: PARAM } }   { claim: NAME, in: [STR..] }
 *   { claim: NAME, prefix: STR }                       (the same three with header: NAME)
 *   { source: [CIDR..] }
 *   { time: { days: [mon..], hours: "09:00-17:00", from: DATE, until: DATE, utcOffset: "+02:00" } }
 *
 * Values are literals: a string is compared byte for byte, never as a pattern.
 */
import { parseCidr } from './ip-address.js';
import type { AttributeRef, Condition, TimeWindow } from './model.js';
import { type Node, type YamlReader, isMap } from './yaml-reader.js';

/** Conditions nest at most this deep (bounds the evaluator's recursion). */
const kMaxDepth = 16;
const kHeaderName = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const kClaimName = /^[A-Za-z0-9_.:-]{1,128}$/;
const kDays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function parseAttribute(r: YamlReader, source: 'claim' | 'header', node: Node | null):
  AttributeRef | undefined {
  const name = r.string(node, source);
  if (name === undefined) return undefined;
  const lowered = source === 'header' ? name.toLowerCase() : name;
  const pattern = source === 'header' ? kHeaderName : kClaimName;
  if (!pattern.test(lowered)) {
    r.error(104, node, `${source}: ${JSON.stringify(name)} is not a valid ${source} name`);
    return undefined;
  }
  return { source, name: lowered };
}

function parseComparison(r: YamlReader, node: Node, entries: ReturnType<YamlReader['map']> & {}):
  Condition | undefined {
  const source = entries.has('claim') ? 'claim' : 'header';
  const attr = parseAttribute(r, source, entries.get(source)!.value);
  const ops = ['equals', 'in', 'prefix'].filter((k) => entries.has(k));
  if (ops.length !== 1) {
    r.error(103, node, `${source} condition: expected exactly one of equals, in, prefix`);
    return undefined;
  }
  if (attr === undefined) return undefined;
  const op = ops[0] as 'equals' | 'in' | 'prefix';
  const valueNode = entries.get(op)!.value;
  if (op === 'in') {
    const values = r.strings(valueNode, `${source} in`);
    return values === undefined ? undefined : { op, attr, values };
  }
  if (op === 'equals' && isMap(valueNode)) {
    const ref = r.map(valueNode, 'equals', ['path']);
    if (ref === undefined || !r.requires(ref, valueNode, 'equals', ['path'])) return undefined;
    const param = r.string(ref.get('path')!.value, 'equals.path');
    return param === undefined ? undefined : { op: 'equals-param', attr, param, segment: -1 };
  }
  const value = r.string(valueNode, `${source} ${op}`);
  if (value === undefined) return undefined;
  if (op === 'prefix' && value === '') {
    r.error(104, valueNode, 'prefix: an empty prefix matches every value; write no condition');
    return undefined;
  }
  return { op, attr, value };
}

function parseMinute(text: string): number | undefined {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(text);
  return m === null ? (text === '24:00' ? 1440 : undefined) : Number(m[1]) * 60 + Number(m[2]);
}

/** `2026-01-31` (midnight in the window's offset) or a full RFC 3339 timestamp. */
function parseDate(text: string, offsetMinutes: number): number | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : ms - offsetMinutes * 60_000;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function parseTime(r: YamlReader, node: Node | null): Condition | undefined {
  const e = r.map(node, 'time', ['days', 'hours', 'from', 'until', 'utcOffset']);
  if (e === undefined) return undefined;
  if (e.size === 0) {
    r.error(103, node, 'time: expected at least one of days, hours, from, until');
    return undefined;
  }
  let utcOffsetMinutes = 0;
  const offsetNode = e.get('utcOffset')?.value;
  if (offsetNode !== undefined) {
    const text = r.string(offsetNode, 'time.utcOffset');
    const m = text === undefined ? null : /^([+-])(0[0-9]|1[0-4]):([0-5][0-9])$/.exec(text);
    if (m === null) return void r.error(107, offsetNode, 'time.utcOffset: expected +HH:MM or -HH:MM');
    utcOffsetMinutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  }
  let days = 0x7f;
  if (e.has('days')) {
    const list = r.strings(e.get('days')!.value, 'time.days', /^(sun|mon|tue|wed|thu|fri|sat)$/,
      'a day (sun, mon, tue, wed, thu, fri, sat)');
    if (list === undefined) return undefined;
    days = list.reduce((mask, d) => mask | (1 << kDays.indexOf(d)), 0);
  }
  let fromMinute = 0;
  let toMinute = 0;
  if (e.has('hours')) {
    const hoursNode = e.get('hours')!.value;
    const text = r.string(hoursNode, 'time.hours') ?? '';
    const [a, b, extra] = text.split('-');
    const from = parseMinute(a ?? '');
    const to = parseMinute(b ?? '');
    if (from === undefined || to === undefined || extra !== undefined || from === to || from === 1440) {
      return void r.error(107, hoursNode, 'time.hours: expected "HH:MM-HH:MM" (a non-empty range)');
    }
    fromMinute = from;
    toMinute = to === 1440 ? 0 : to;
  }
  const bound = (key: 'from' | 'until', none: number): number | undefined => {
    const n = e.get(key)?.value;
    if (n === undefined) return none;
    const ms = parseDate(r.string(n, `time.${key}`) ?? '', utcOffsetMinutes);
    if (ms === undefined) r.error(107, n, `time.${key}: expected YYYY-MM-DD or an RFC 3339 time`);
    return ms;
  };
  const notBeforeMs = bound('from', -Infinity);
  const notAfterMs = bound('until', Infinity);
  if (notBeforeMs === undefined || notAfterMs === undefined) return undefined;
  if (notBeforeMs >= notAfterMs) {
    return void r.error(107, node, 'time: "from" must come before "until"');
  }
  const window: TimeWindow = { days, fromMinute, toMinute, utcOffsetMinutes, notBeforeMs,
    notAfterMs };
  return { op: 'time', window };
}

/** Parses one condition mapping; reports diagnostics and returns undefined when it is invalid. */
export function parseCondition(r: YamlReader, node: Node | null, depth = 0): Condition | undefined {
  if (depth >= kMaxDepth) return void r.error(104, node, `when: nested deeper than ${kMaxDepth}`);
  const e = r.map(node, 'condition', ['all', 'any', 'not', 'claim', 'header', 'equals', 'in',
    'prefix', 'source', 'time']);
  if (e === undefined) return undefined;
  const heads = ['all', 'any', 'not', 'claim', 'header', 'source', 'time'].filter((k) => e.has(k));
  if (heads.length !== 1) {
    r.error(heads.length === 0 ? 103 : 104, node,
      'condition: expected exactly one of all, any, not, claim, header, source, time');
    return undefined;
  }
  const head = heads[0]!;
  if (head !== 'claim' && head !== 'header' && e.size !== 1) {
    return void r.error(102, node, `condition: "${head}" takes no other keys`);
  }
  const value = e.get(head)!.value;
  switch (head) {
    case 'all':
    case 'any': {
      const items = r.list(value, head);
      if (items === undefined) return undefined;
      if (items.length === 0) return void r.error(104, value, `${head}: expected at least one condition`);
      const of = items.map((item) => parseCondition(r, item, depth + 1));
      return of.every((c) => c !== undefined) ? { op: head, of: of as Condition[] } : undefined;
    }
    case 'not': {
      const of = parseCondition(r, value, depth + 1);
      return of === undefined ? undefined : { op: 'not', of };
    }
    case 'source': {
      const ranges = r.strings(value, 'source');
      if (ranges === undefined) return undefined;
      for (const text of ranges) {
        if (parseCidr(text) === undefined) {
          return void r.error(106, value, `source: ${JSON.stringify(text)} is not an address or CIDR range`);
        }
      }
      return { op: 'cidr', ranges };
    }
    case 'time':
      return parseTime(r, value);
    default:
      return parseComparison(r, node!, e);
  }
}
