/**
 * Shadowed-rule detection for the checker (warning 205). Rule B is shadowed by rule A when A
 * applies to every request B applies to and A would decide instead: A is a deny and B an allow
 * (deny overrides), or both have the same effect and A comes first (the lower index decides).
 *
 * "Applies to every request" is judged syntactically and conservatively: A has no condition,
 * its subjects, services, methods and patterns each cover B's. A warning is therefore always
 * true; some shadowed rules (covered only through conditions) go unreported.
 */
import type { PathPattern, Rule, SubjectMatcher } from './model.js';

function matcherKey(m: SubjectMatcher): string {
  return 'value' in m ? `${m.kind}:${m.value}` : m.kind;
}

/** A's matchers cover B's: every principal B names is one A names. */
function subjectsCover(a: readonly SubjectMatcher[], b: readonly SubjectMatcher[]): boolean {
  if (a.some((m) => m.kind === 'anyone')) return true;
  const keys = new Set(a.map(matcherKey));
  const hasAuthenticated = keys.has('authenticated');
  return b.every((m) => {
    if (keys.has(matcherKey(m))) return true;
    // Roles can be assigned to anonymous principals, so only identity matchers are covered here.
    if (!hasAuthenticated) return false;
    return m.kind === 'subject' || m.kind === 'scope' || m.kind === 'client' || m.kind === 'group'
      || m.kind === 'spiffe' || (m.kind === 'credential' && m.value !== 'anonymous');
  });
}

function listCovers(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  return b.every((x) => a.includes(x));
}

/** Pattern A matches every path pattern B matches. */
export function patternCovers(a: PathPattern, b: PathPattern): boolean {
  const sa = a.segments;
  const sb = b.segments;
  for (let i = 0; ; i++) {
    if (i === sa.length) return i === sb.length;
    const x = sa[i]!;
    if (x.kind === 'glob') return true;
    if (i === sb.length) return false;
    const y = sb[i]!;
    if (y.kind === 'glob') return false;
    if (x.kind === 'literal') {
      if (y.kind !== 'literal' || y.value !== x.value) return false;
    } else if (y.kind === 'literal' && y.value === '') {
      return false;
    }
  }
}

function ruleCovers(a: Rule, b: Rule): boolean {
  return a.condition === undefined && listCovers(a.services, b.services)
    && listCovers(a.methods, b.methods) && subjectsCover(a.subjects, b.subjects)
    && b.paths.every((pb) => a.paths.some((pa) => patternCovers(pa, pb)));
}

/** Bucket key of a pattern's first segment: its literal, or '*' for anything else. */
function firstKey(p: PathPattern): string {
  const first = p.segments[0];
  return first?.kind === 'literal' ? `=${first.value}` : '*';
}

/** Every rule that never decides, with one rule that shadows it. */
export function findShadowedRules(rules: readonly Rule[]): { rule: Rule; by: Rule }[] {
  // Only condition-free rules can shadow. Index them by service (or '*' for any service) and by
  // the first segment of each pattern: a rule can only be covered by rules in its own buckets,
  // which keeps this near-linear for large policies.
  const buckets = new Map<string, Rule[]>();
  const put = (key: string, r: Rule): void => {
    let list = buckets.get(key);
    if (list === undefined) buckets.set(key, list = []);
    if (list[list.length - 1] !== r) list.push(r);
  };
  for (const r of rules) {
    if (r.condition !== undefined) continue;
    for (const svc of r.services ?? ['*']) {
      for (const p of r.paths) put(`${svc}\0${firstKey(p)}`, r);
    }
  }

  const out: { rule: Rule; by: Rule }[] = [];
  for (const b of rules) {
    const svc = b.services?.[0];
    const seg = firstKey(b.paths[0]!);
    const keys = [`*\0*`, ...(seg === '*' ? [] : [`*\0${seg}`])];
    if (svc !== undefined) keys.push(`${svc}\0*`, ...(seg === '*' ? [] : [`${svc}\0${seg}`]));
    let by: Rule | undefined;
    for (const key of keys) {
      by = buckets.get(key)?.find((a) => a !== b
        && ((a.effect === 'deny' && b.effect === 'allow') || (a.effect === b.effect && a.index < b.index))
        && ruleCovers(a, b));
      if (by !== undefined) break;
    }
    if (by !== undefined) out.push({ rule: b, by });
  }
  return out;
}
