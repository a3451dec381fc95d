/**
 * The reference evaluator: the policy's meaning, written for clarity, over the policy model a
 * bundle carries (not over its tree). Tests use it as the oracle the WebAssembly evaluator must
 * agree with, and `portcullis explain` uses it to say why each rule did or did not apply.
 *
 * Semantics: a rule applies when its service, method, one of its path patterns, one of its
 * subject matchers and its condition all match. The lowest-index applicable deny decides; else
 * the lowest-index applicable allow; else the request is denied by default. An empty string
 * counts as absent and equals nothing.
 */
import { cidrContains, parseCidr, parseIpInto } from '../policy/ip-address.js';
import type { Condition, PathPattern, Policy, Rule, SubjectMatcher } from '../policy/index.js';
import type { AuthzPrincipal, AuthzRequest } from './request.js';

/** The reference outcome: effect and rule index (-1 for default deny). */
export interface ReferenceDecision {
  readonly allow: boolean;
  readonly ruleIndex: number;
}

/** Every role the principal holds: assigned roles and all they inherit. */
export function principalRoles(policy: Policy, p: AuthzPrincipal): Set<string> {
  const direct = policy.assignments.filter((a) => {
    if (a.value === '') return false;
    switch (a.kind) {
      case 'group': return p.groups.includes(a.value);
      case 'scope': return p.scopes.includes(a.value);
      case 'client': return p.clientId === a.value;
      case 'subject': return p.subject === a.value;
      case 'spiffe': return p.certificate?.spiffeId === a.value;
      case 'credential': return p.kind === a.value;
    }
  });
  const parents = new Map(policy.roles.map((r) => [r.name, r.inherits]));
  const held = new Set<string>();
  const add = (role: string): void => {
    if (held.has(role)) return;
    held.add(role);
    for (const parent of parents.get(role) ?? []) add(parent);
  };
  direct.forEach((a) => add(a.role));
  return held;
}

function patternMatches(p: PathPattern, segments: readonly string[]): boolean {
  for (let i = 0; i < p.segments.length; i++) {
    const s = p.segments[i]!;
    if (s.kind === 'glob') return true;
    if (i >= segments.length) return false;
    if (s.kind === 'literal' && s.value !== segments[i]) return false;
    if (s.kind !== 'literal' && segments[i] === '') return false;
  }
  return p.segments.length === segments.length;
}

function subjectMatches(m: SubjectMatcher, p: AuthzPrincipal, roles: Set<string>): boolean {
  switch (m.kind) {
    case 'anyone': return true;
    case 'authenticated': return p.kind !== 'anonymous';
    case 'anonymous': return p.kind === 'anonymous';
    case 'role': return roles.has(m.value);
    case 'subject': return m.value !== '' && p.subject === m.value;
    case 'client': return m.value !== '' && p.clientId === m.value;
    case 'spiffe': return m.value !== '' && p.certificate?.spiffeId === m.value;
    case 'scope': return m.value !== '' && p.scopes.includes(m.value);
    case 'group': return m.value !== '' && p.groups.includes(m.value);
    case 'credential': return p.kind === m.value;
  }
}

function attributeValue(req: AuthzRequest, source: 'claim' | 'header', name: string):
  string | undefined {
  let value: string | undefined;
  if (source === 'claim') {
    const attrs = req.principal.attributes;
    const v = Object.hasOwn(attrs, name) ? attrs[name] : undefined;
    value = typeof v === 'string' ? v : undefined;
  } else {
    const values: string[] = [];
    for (let i = 0; i < req.headers.length; i += 2) {
      if (req.headers[i] === name) values.push(req.headers[i + 1]!);
    }
    value = values.length === 0 ? undefined : values.join(', ');
  }
  return value === '' ? undefined : value;
}

function inWindow(c: Extract<Condition, { op: 'time' }>, nowMs: number): boolean {
  const w = c.window;
  if (nowMs < w.notBeforeMs || nowMs >= w.notAfterMs) return false;
  const local = nowMs + w.utcOffsetMinutes * 60_000;
  const day = Math.floor(local / 86_400_000);
  const weekday = (((day + 4) % 7) + 7) % 7;
  if ((w.days & (1 << weekday)) === 0) return false;
  const minute = Math.floor((local - day * 86_400_000) / 60_000);
  if (w.fromMinute === 0 && w.toMinute === 0) return true;
  if (w.fromMinute < w.toMinute) return minute >= w.fromMinute && minute < w.toMinute;
  return minute >= w.fromMinute || minute < w.toMinute;
}

/** Whether `c` holds for `req` (with the path split into `segments`). */
export function conditionHolds(c: Condition, req: AuthzRequest, segments: readonly string[]): boolean {
  switch (c.op) {
    case 'all': return c.of.every((x) => conditionHolds(x, req, segments));
    case 'any': return c.of.some((x) => conditionHolds(x, req, segments));
    case 'not': return !conditionHolds(c.of, req, segments);
    case 'equals': return attributeValue(req, c.attr.source, c.attr.name) === c.value;
    case 'in': {
      const v = attributeValue(req, c.attr.source, c.attr.name);
      return v !== undefined && c.values.includes(v);
    }
    case 'prefix': {
      const v = attributeValue(req, c.attr.source, c.attr.name);
      return v !== undefined && v.startsWith(c.value);
    }
    case 'equals-param': {
      const v = attributeValue(req, c.attr.source, c.attr.name);
      return v !== undefined && v === segments[c.segment];
    }
    case 'cidr': {
      const addr = new Uint8Array(16);
      if (!parseIpInto(req.sourceAddress, addr, 0)) return false;
      return c.ranges.some((r) => cidrContains(parseCidr(r)!, addr, 0));
    }
    case 'time': return inWindow(c, req.nowMs);
  }
}

/** Why `rule` does not apply to `req`, or undefined when it applies. */
export function whyNot(rule: Rule, req: AuthzRequest, segments: readonly string[],
  roles: Set<string>): string | undefined {
  if (rule.services !== undefined && !rule.services.includes(req.service)) {
    return `service ${req.service} is not one of ${rule.services.join(', ')}`;
  }
  if (rule.methods !== undefined && !rule.methods.includes(req.method)) {
    return `method ${req.method} is not one of ${rule.methods.join(', ')}`;
  }
  if (!rule.paths.some((p) => patternMatches(p, segments))) {
    return `path ${req.path} matches none of ${rule.paths.map((p) => p.text).join(', ')}`;
  }
  if (!rule.subjects.some((m) => subjectMatches(m, req.principal, roles))) {
    return 'the principal matches none of its subjects';
  }
  if (rule.condition !== undefined && !conditionHolds(rule.condition, req, segments)) {
    return 'its condition is false';
  }
  return undefined;
}

/** The path's segments as the evaluator sees them ("/" is one empty segment). */
export function pathSegments(path: string): string[] {
  return path.slice(1).split('/');
}

/** Decides `req` against `policy` the slow, obvious way. */
export function referenceDecide(policy: Policy, req: AuthzRequest): ReferenceDecision {
  const segments = pathSegments(req.path);
  const roles = principalRoles(policy, req.principal);
  const applicable = policy.rules.filter((r) => whyNot(r, req, segments, roles) === undefined);
  const deny = applicable.find((r) => r.effect === 'deny');
  if (deny !== undefined) return { allow: false, ruleIndex: deny.index };
  const allow = applicable.find((r) => r.effect === 'allow');
  if (allow !== undefined) return { allow: true, ruleIndex: allow.index };
  return { allow: false, ruleIndex: -1 };
}
