/**
 * Pass 2, check: resolve and validate the parsed policy, with 2xx diagnostics.
 *
 * Roles must exist and their inheritance must be acyclic; rule ids are unique; a condition's
 * `{ path: P }` must name a parameter that every pattern of its rule binds at one segment index
 * (the index is filled in here, so the evaluator compares by position); a pattern whose literal
 * could never appear in a canonical path is an error (a deny rule written that way would silently
 * protect nothing); obligation headers must be safe to add. Shadowed rules are warnings.
 */
import { type DiagnosticSink } from './diagnostics.js';
import type { Condition, PathPattern, Policy, Rule, SourcePos } from './model.js';
import { findShadowedRules } from './shadowing.js';

/** A checked policy: every reference resolved, plus each role's inherited closure. */
export interface CheckedPolicy extends Policy {
  /** Role name -> itself and every role it inherits, sorted. */
  readonly roleClosure: ReadonlyMap<string, readonly string[]>;
}

/** Headers an obligation may not set: framing, hop-by-hop, routing and the proxy's own. */
const kForbiddenObligation = new RegExp('^(host|content-length|transfer-encoding|connection|' +
  'keep-alive|te|trailer|upgrade|expect|authorization|cookie|forwarded|x-forwarded-.*|proxy-.*|' +
  'x-request-id|x-portcullis-(subject|issuer|client-id|scopes|credential|jwt))$');
const kHeaderToken = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/**
 * Request headers a condition may not read: credentials, and every identity or forwarding header
 * the proxy strips from clients (the same names as isReservedIdentityHeader in
 * src/upstream/forward-headers.ts, which test/policy/unreadable-headers.test.ts holds it to).
 * A decision on them would trust what the client says about itself.
 */
const kUnreadableNames = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'forwarded', 'x-real-ip', 'x-request-id',
  'true-client-ip', 'remote-user', 'x-email', 'x-jwt', 'x-id-token', 'x-access-token',
  'x-principal', 'x-subject', 'x-groups', 'x-roles', 'x-scopes', 'x-tenant', 'x-spiffe-id',
  'x-ssl-client-cert', 'ssl-client-cert',
]);
const kUnreadablePrefixes = ['x-forwarded-', 'x-auth-', 'x-authenticated-', 'x-portcullis-',
  'x-user', 'x-remote-', 'x-client-', 'x-original-', 'x-envoy-', 'x-rewrite-'];

/** Whether a condition may read request header `name` (lower-case). */
export function isReadableHeader(name: string): boolean {
  const dashed = name.replaceAll('_', '-');
  return !kUnreadableNames.has(dashed) && !kUnreadablePrefixes.some((p) => dashed.startsWith(p));
}
const kHeaderValue = /^[\x20-\x7e\t]*$/;
const kHex = /^[0-9A-F]{2}$/;
/** Characters the canonical path never holds raw (src/routing/README.md, rule 4). */
const kNeverRaw = /[\x00-\x20\x7f-\uffff\\;"<>[\]^`{|}?#]/;

/**
 * Why a literal segment can never equal a canonical path segment, or undefined when it can.
 * The canonical form decodes escapes of unreserved characters, keeps every other escape in
 * upper-case hex, refuses encoded separators and controls, and removes dot segments.
 */
export function unmatchableReason(segment: string, isLast: boolean): string | undefined {
  if (segment === '.' || segment === '..') return 'dot segments are removed before matching';
  if (segment === '' && !isLast) return 'empty segments (//) never reach the policy';
  if (kNeverRaw.test(segment)) return 'it holds a character the canonical path never carries raw';
  for (let i = segment.indexOf('%'); i >= 0; i = segment.indexOf('%', i + 1)) {
    const hex = segment.slice(i + 1, i + 3);
    if (!kHex.test(hex)) return `"%${hex}" is not an upper-case percent-escape`;
    const code = parseInt(hex, 16);
    const c = String.fromCharCode(code);
    if (/[A-Za-z0-9._~-]/.test(c)) return `"%${hex}" is decoded to "${c}" before matching`;
    if (code < 0x20 || code === 0x7f || hex === '2F' || hex === '5C' || hex === '3B') {
      return `"%${hex}" is refused by the router`;
    }
  }
  return undefined;
}

function resolveRoles(policy: Policy, sink: DiagnosticSink): Map<string, string[]> {
  // Step 1: unique names, defined parents.
  const byName = new Map<string, Policy['roles'][number]>();
  for (const role of policy.roles) {
    if (byName.has(role.name)) sink.error(206, role.pos, `role "${role.name}" is defined twice`);
    else byName.set(role.name, role);
  }
  for (const role of policy.roles) {
    for (const parent of role.inherits) {
      if (!byName.has(parent)) {
        sink.error(200, role.pos, `role "${role.name}" inherits undefined role "${parent}"`);
      }
    }
  }

  // Step 2: depth-first closure; a role met again on the current path is a cycle.
  const closure = new Map<string, string[]>();
  const visiting = new Set<string>();
  const visit = (name: string, trail: string[]): string[] => {
    const done = closure.get(name);
    if (done !== undefined) return done;
    if (visiting.has(name)) {
      const start = trail.indexOf(name);
      sink.error(201, byName.get(name)!.pos,
        `role inheritance cycle: ${[...trail.slice(start), name].join(' -> ')}`);
      return [name];
    }
    visiting.add(name);
    const all = new Set<string>([name]);
    for (const parent of byName.get(name)?.inherits ?? []) {
      if (byName.has(parent)) for (const r of visit(parent, [...trail, name])) all.add(r);
    }
    visiting.delete(name);
    const sorted = [...all].sort();
    closure.set(name, sorted);
    return sorted;
  };
  for (const name of byName.keys()) visit(name, []);
  return closure;
}

/** The segment index every pattern binds `param` at, or a reason it has none. */
function paramIndex(paths: readonly PathPattern[], param: string): number | string {
  let index = -1;
  for (const p of paths) {
    const at = p.segments.findIndex((s) => s.kind === 'param' && s.name === param);
    if (at < 0) return `pattern ${p.text} does not bind {${param}}`;
    if (index >= 0 && at !== index) return `{${param}} sits at different positions in the patterns`;
    index = at;
  }
  return index;
}

function resolveCondition(c: Condition, rule: Rule, sink: DiagnosticSink): Condition {
  switch (c.op) {
    case 'all':
    case 'any':
      return { op: c.op, of: c.of.map((x) => resolveCondition(x, rule, sink)) };
    case 'not':
      return { op: 'not', of: resolveCondition(c.of, rule, sink) };
    case 'equals':
    case 'in':
    case 'prefix':
      if (c.attr.source === 'header' && !isReadableHeader(c.attr.name)) {
        sink.error(208, rule.pos, `rule "${rule.id}": header "${c.attr.name}" is a credential or ` +
          'an identity header clients cannot be trusted with; conditions may not read it');
      }
      return c;
    case 'equals-param': {
      if (c.attr.source === 'header' && !isReadableHeader(c.attr.name)) {
        sink.error(208, rule.pos, `rule "${rule.id}": header "${c.attr.name}" may not be read`);
      }
      const at = paramIndex(rule.paths, c.param);
      if (typeof at === 'string') {
        sink.error(203, rule.pos, `rule "${rule.id}": ${c.attr.source} compared with path.${c.param}: ${at}`);
        return c;
      }
      return { ...c, segment: at };
    }
    default:
      return c;
  }
}

function checkRule(rule: Rule, roles: ReadonlyMap<string, unknown>, sink: DiagnosticSink,
  obligationPos: ReadonlyMap<string, SourcePos>): Rule {
  for (const m of rule.subjects) {
    if (m.kind === 'role' && !roles.has(m.value)) {
      sink.error(200, rule.pos, `rule "${rule.id}" names undefined role "${m.value}"`);
    }
  }
  for (const p of rule.paths) {
    p.segments.forEach((s, i) => {
      if (s.kind !== 'literal') return;
      const why = unmatchableReason(s.value, i === p.segments.length - 1);
      if (why !== undefined) {
        sink.error(204, rule.pos, `rule "${rule.id}": pattern ${p.text} cannot match: ` +
          `segment ${JSON.stringify(s.value)}: ${why}`);
      }
    });
  }
  for (const [name, value] of rule.obligations) {
    const pos = obligationPos.get(`${rule.index}:${name}`) ?? rule.pos;
    if (!kHeaderToken.test(name) || kForbiddenObligation.test(name)) {
      sink.error(207, pos,
        `obligation header "${name}" must be a lower-case header name the proxy does not own`);
    } else if (!kHeaderValue.test(value)) {
      sink.error(207, pos, `obligation header "${name}": value must be printable ASCII`);
    }
  }
  const condition = rule.condition === undefined ? undefined
    : resolveCondition(rule.condition, rule, sink);
  return { ...rule, condition };
}

/** Checks `policy`; returns the checked policy (use it only when `sink` holds no errors). */
export function checkPolicy(policy: Policy, sink: DiagnosticSink,
  obligationPos: ReadonlyMap<string, SourcePos> = new Map()): CheckedPolicy {
  const roleClosure = resolveRoles(policy, sink);
  for (const a of policy.assignments) {
    if (!roleClosure.has(a.role)) sink.error(200, a.pos, `assignment names undefined role "${a.role}"`);
  }

  const seen = new Map<string, Rule>();
  const rules = policy.rules.map((rule) => {
    const first = seen.get(rule.id);
    if (first !== undefined) {
      sink.error(202, rule.pos,
        `rule id "${rule.id}" is already used at ${first.pos.file}:${first.pos.line}`);
    } else {
      seen.set(rule.id, rule);
    }
    return checkRule(rule, roleClosure, sink, obligationPos);
  });

  if (!sink.hasErrors) {
    for (const { rule, by } of findShadowedRules(rules)) {
      sink.warning(205, rule.pos, `rule "${rule.id}" never decides: "${by.id}" ` +
        `(${by.pos.file}:${by.pos.line}) applies to every request it applies to` +
        (by.effect === 'deny' && rule.effect === 'allow' ? ' and denies' : ' and comes first'));
    }
  }
  return { ...policy, rules, roleClosure };
}
