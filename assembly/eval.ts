// The tree walk. Kept whole in one file: it is the evaluator's inner loop.
//
// Algorithm: pick the service's method table (an array index: service ids are the first string
// ids), pick the method's trie (binary search; a fallback trie for other methods), then walk the
// path trie depth-first over the request's segment ids, following the literal child and the
// one-segment wildcard child. At each node, the rules whose `**` starts there and, at the last
// segment, the rules whose pattern ends there are tried. Lists hold denies first, then allows,
// each by rule index, so a list stops at its first applicable rule. The lowest applicable deny
// wins; else the lowest applicable allow; else default deny. Nothing allocates; the only state is
// three globals reset per call.
import {
  ATTR_SPANS, ATTRS, A_CLIENT, A_CREDENTIAL, A_GROUP, A_SCOPE, A_SPIFFE, A_SUBJECT, BYTES,
  C_ALL, C_ANY, C_CIDR, C_EQUALS, C_EQUALS_SEGMENT, C_IN, C_NOT, C_PREFIX, C_TIME, EFFECT_DENY,
  GROUPS, H_ASSIGNMENTS, H_ROLE_COUNT, H_SERVICE_COUNT, H_SERVICE_TABLE, KIND_ANONYMOUS,
  REQ_ADDRESS, REQ_CLIENT, REQ_GROUP_COUNT, REQ_HAS_ADDRESS, REQ_KIND, REQ_METHOD, REQ_NOW_MS,
  REQ_SCOPE_COUNT, REQ_SEG_COUNT, REQ_SERVICE, REQ_SPIFFE, REQ_SUBJECT, ROLES, SCOPES, SEGS,
  S_ANONYMOUS, S_AUTHENTICATED, S_CLIENT, S_CREDENTIAL, S_GROUP, S_ROLE, S_SCOPE, S_SPIFFE,
  S_SUBJECT, TREE,
} from './layout';

const NONE: i32 = 0x7fffffff;
const MS_PER_DAY: f64 = 86400000;

let bestDeny: i32 = NONE;
let bestAllow: i32 = NONE;
let rolesReady: bool = false;

// @ts-ignore: decorator
@inline function word(off: u32): u32 {
  return load<u32>(TREE + (off << 2));
}

// @ts-ignore: decorator
@inline function req(addr: u32): u32 {
  return load<u32>(addr);
}

/** Binary search over `count` (key, value) word pairs at `pairs`; 0 when `key` is absent. */
function findPair(pairs: u32, count: u32, key: u32): u32 {
  let lo: u32 = 0;
  let hi: u32 = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const k = word(pairs + (mid << 1));
    if (k == key) return word(pairs + (mid << 1) + 1);
    if (k < key) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

function containsId(base: u32, count: u32, id: u32): bool {
  for (let i: u32 = 0; i < count; i++) if (load<u32>(base + (i << 2)) == id) return true;
  return false;
}

/** Sets the role bits of every assignment entry (kind, value) matches. */
function assign(kind: u32, value: u32): void {
  const table = word(H_ASSIGNMENTS);
  let lo: u32 = 0;
  let hi: u32 = word(table);
  const entries = table + 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const e = entries + mid * 3;
    const k = word(e);
    const v = word(e + 1);
    if (k == kind && v == value) {
      const list = word(e + 2);
      const n = word(list);
      for (let i: u32 = 1; i <= n; i++) {
        const r = word(list + i);
        const at = ROLES + ((r >> 5) << 2);
        store<u32>(at, load<u32>(at) | (1 << (r & 31)));
      }
      return;
    }
    if (k < kind || (k == kind && v < value)) lo = mid + 1;
    else hi = mid;
  }
}

/** Computes the principal's role bitset once per call, on first use. */
function ensureRoles(): void {
  if (rolesReady) return;
  rolesReady = true;
  const words = (word(H_ROLE_COUNT) + 31) >> 5;
  memory.fill(ROLES, 0, words << 2);
  assign(A_CREDENTIAL, req(REQ_KIND));
  if (req(REQ_SUBJECT) != 0) assign(A_SUBJECT, req(REQ_SUBJECT));
  if (req(REQ_CLIENT) != 0) assign(A_CLIENT, req(REQ_CLIENT));
  if (req(REQ_SPIFFE) != 0) assign(A_SPIFFE, req(REQ_SPIFFE));
  const scopes = req(REQ_SCOPE_COUNT);
  for (let i: u32 = 0; i < scopes; i++) assign(A_SCOPE, load<u32>(SCOPES + (i << 2)));
  const groups = req(REQ_GROUP_COUNT);
  for (let i: u32 = 0; i < groups; i++) assign(A_GROUP, load<u32>(GROUPS + (i << 2)));
}

function subjectMatches(off: u32): bool {
  if (off == 0) return true;
  const n = word(off);
  const kind = req(REQ_KIND);
  for (let i: u32 = 0; i < n; i++) {
    const op = word(off + 1 + (i << 1));
    const arg = word(off + 2 + (i << 1));
    let hit = false;
    if (op == S_AUTHENTICATED) hit = kind != KIND_ANONYMOUS;
    else if (op == S_ANONYMOUS) hit = kind == KIND_ANONYMOUS;
    else if (op == S_ROLE) {
      ensureRoles();
      hit = (load<u32>(ROLES + ((arg >> 5) << 2)) & (1 << (arg & 31))) != 0;
    } else if (op == S_SUBJECT) hit = arg != 0 && req(REQ_SUBJECT) == arg;
    else if (op == S_CLIENT) hit = arg != 0 && req(REQ_CLIENT) == arg;
    else if (op == S_SPIFFE) hit = arg != 0 && req(REQ_SPIFFE) == arg;
    else if (op == S_SCOPE) hit = arg != 0 && containsId(SCOPES, req(REQ_SCOPE_COUNT), arg);
    else if (op == S_GROUP) hit = arg != 0 && containsId(GROUPS, req(REQ_GROUP_COUNT), arg);
    else if (op == S_CREDENTIAL) hit = kind == arg;
    else hit = true;
    if (hit) return true;
  }
  return false;
}

function prefixMatches(slot: u32, off: u32): bool {
  if (load<u32>(ATTRS + (slot << 2)) == 0) return false;
  const span = ATTR_SPANS + (slot << 3);
  const start = load<u32>(span);
  const len = load<u32>(span + 4);
  const plen = word(off + 2);
  if (len < plen) return false;
  const prefix = TREE + ((off + 3) << 2);
  for (let i: u32 = 0; i < plen; i++) {
    if (load<u8>(BYTES + start + i) != load<u8>(prefix + i)) return false;
  }
  return true;
}

function cidrMatches(off: u32): bool {
  if (req(REQ_HAS_ADDRESS) == 0) return false;
  const n = word(off + 1);
  for (let r: u32 = 0; r < n; r++) {
    const range = off + 2 + r * 5;
    const bits = word(range + 4);
    const base = TREE + (range << 2);
    let ok = true;
    const full = bits >> 3;
    for (let i: u32 = 0; i < full; i++) {
      if (load<u8>(REQ_ADDRESS + i) != load<u8>(base + i)) {
        ok = false;
        break;
      }
    }
    const rest = bits & 7;
    if (ok && rest != 0) {
      const mask = <u32>((0xff00 >> rest) & 0xff);
      ok = (<u32>load<u8>(REQ_ADDRESS + full) & mask) == <u32>load<u8>(base + full);
    }
    if (ok) return true;
  }
  return false;
}

function timeMatches(off: u32): bool {
  const now = load<f64>(REQ_NOW_MS);
  const notBefore = load<f64>(TREE + ((off + 5) << 2));
  const notAfter = load<f64>(TREE + ((off + 7) << 2));
  if (now < notBefore || now >= notAfter) return false;
  const local = now + <f64>(<i32>word(off + 4)) * 60000;
  const days = Math.floor(local / MS_PER_DAY);
  const weekday = <u32>(((<i64>days % 7) + 11) % 7);
  if ((word(off + 1) & (1 << weekday)) == 0) return false;
  const minute = <u32>Math.floor((local - days * MS_PER_DAY) / 60000);
  const from = word(off + 2);
  const to = word(off + 3);
  if (from == 0 && to == 0) return true;
  if (from < to) return minute >= from && minute < to;
  return minute >= from || minute < to;
}

function conditionHolds(off: u32): bool {
  const op = word(off);
  if (op == C_ALL || op == C_ANY) {
    const n = word(off + 1);
    const isAll = op == C_ALL;
    for (let i: u32 = 0; i < n; i++) {
      if (conditionHolds(word(off + 2 + i)) != isAll) return !isAll;
    }
    return isAll;
  }
  if (op == C_NOT) return !conditionHolds(word(off + 1));
  if (op == C_EQUALS) {
    const v = load<u32>(ATTRS + (word(off + 1) << 2));
    return v != 0 && v == word(off + 2);
  }
  if (op == C_IN) {
    const v = load<u32>(ATTRS + (word(off + 1) << 2));
    if (v == 0) return false;
    const n = word(off + 2);
    let lo: u32 = 0;
    let hi: u32 = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const x = word(off + 3 + mid);
      if (x == v) return true;
      if (x < v) lo = mid + 1;
      else hi = mid;
    }
    return false;
  }
  if (op == C_PREFIX) return prefixMatches(word(off + 1), off);
  if (op == C_EQUALS_SEGMENT) {
    const v = load<u32>(ATTRS + (word(off + 1) << 2));
    return v != 0 && v == load<u32>(SEGS + (word(off + 2) << 2));
  }
  if (op == C_CIDR) return cidrMatches(off);
  if (op == C_TIME) return timeMatches(off);
  return false;
}

function tryList(list: u32): void {
  const n = word(list);
  for (let i: u32 = 1; i <= n; i++) {
    const body = word(list + i);
    const index = <i32>word(body);
    const isDeny = word(body + 1) == EFFECT_DENY;
    // Denies come first by index: past the best deny so far, nothing in this list can win.
    if (isDeny) {
      if (index >= bestDeny) return;
    } else if (bestDeny != NONE || index >= bestAllow) {
      return;
    }
    if (!subjectMatches(word(body + 2))) continue;
    const cond = word(body + 3);
    if (cond != 0 && !conditionHolds(cond)) continue;
    if (isDeny) bestDeny = index;
    else bestAllow = index;
    return;
  }
}

function walk(node: u32, depth: u32, count: u32): void {
  const glob = word(node + 4);
  if (glob != 0) tryList(glob);
  if (depth == count) {
    const leaf = word(node + 3);
    if (leaf != 0) tryList(leaf);
    return;
  }
  const seg = load<u32>(SEGS + (depth << 2));
  const lits = word(node);
  if (lits != 0) {
    const child = findPair(word(node + 1), lits, seg);
    if (child != 0) walk(child, depth + 1, count);
  }
  const star = word(node + 2);
  // `*` and `{param}` match one non-empty segment; "" is string id 0.
  if (star != 0 && seg != 0) walk(star, depth + 1, count);
}

/**
 * Evaluates the request in the request block against the tree. Returns the decision code:
 * 0 default deny, ((rule + 1) << 1) for a deny by `rule`, ((rule + 1) << 1) | 1 for an allow.
 */
export function evaluateRequest(): i32 {
  bestDeny = NONE;
  bestAllow = NONE;
  rolesReady = false;
  let service = req(REQ_SERVICE);
  if (service > word(H_SERVICE_COUNT)) service = 0;
  const methods = word(word(H_SERVICE_TABLE) + service);
  if (methods != 0) {
    const named = word(methods);
    let trie = findPair(methods + 2, named, req(REQ_METHOD));
    if (trie == 0) trie = word(methods + 1);
    if (trie != 0) walk(trie, 0, req(REQ_SEG_COUNT));
  }
  if (bestDeny != NONE) return (bestDeny + 1) << 1;
  if (bestAllow != NONE) return ((bestAllow + 1) << 1) | 1;
  return 0;
}
