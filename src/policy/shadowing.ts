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

/** Every rule that never decides, with one rule that shadows it. */
export function findShadowedRules(rules: readonly Rule[]): { rule: Rule; by: Rule }[] {
  // Only condition-free rules can shadow; bucket them by service (undefined = any service).
  const buckets = new Map<string, Rule[]>();
  const anyService: Rule[] = [];
  for (const r of rules) {
    if (r.condition !== undefined) continue;
    if (r.services === undefined) anyService.push(r);
    else {
      for (const s of r.services) {
        let list = buckets.get(s);
        if (list === undefined) buckets.set(s, list = []);
        list.push(r);
      }
    }
  }

  const out: { rule: Rule; by: Rule }[] = [];
  for (const b of rules) {
    const first = b.services?.[0];
    const candidates = first === undefined ? anyService : [...anyService, ...(buckets.get(first) ?? [])];
    const by = candidates.find((a) => a !== b
      && ((a.effect === 'deny' && b.effect === 'allow') || (a.effect === b.effect && a.index < b.index))
      && ruleCovers(a, b));
    if (by !== undefined) out.push({ rule: b, by });
  }
  return out;
}
