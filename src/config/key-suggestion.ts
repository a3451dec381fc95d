/**
 * "Did you mean ...?" for unknown keys: finds the keys the schema allows at a path and picks
 * the one closest to what was written (same letters ignoring case, '-' and '_', or at most two
 * edits away).
 */
import { type z } from 'zod';

const kMaxEdits = 2;
const kWrappers = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch']);

interface LooseDef {
  readonly type: string;
  readonly innerType?: z.core.$ZodType;
  readonly in?: z.core.$ZodType;
  readonly element?: z.core.$ZodType;
  readonly shape?: Readonly<Record<string, z.core.$ZodType>>;
}

/** The keys the object schema at `path` accepts, or [] when `path` is not an object. */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let def = unwrap(schema);
  for (const segment of path) {
    const next = def.type === 'object' ? def.shape?.[String(segment)]
      : def.type === 'array' ? def.element : undefined;
    if (next === undefined) return [];
    def = unwrap(next);
  }
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/** The candidate closest to `written`, or undefined when none is plausibly meant. */
export function closestKey(written: string, candidates: readonly string[]): string | undefined {
  const loose = squash(written);
  const same = candidates.find((c) => squash(c) === loose);
  if (same !== undefined) return same;

  let best: string | undefined;
  let bestEdits = kMaxEdits + 1;
  for (const candidate of candidates) {
    const edits = editDistance(loose, squash(candidate));
    if (edits < bestEdits) [best, bestEdits] = [candidate, edits];
  }
  return best;
}

function unwrap(schema: z.core.$ZodType): LooseDef {
  let def = schema._zod.def as unknown as LooseDef;
  // Bounded: wrappers nest a few levels at most (default around optional around pipe).
  for (let depth = 0; depth < 8; depth += 1) {
    const inner = kWrappers.has(def.type) ? def.innerType
      : def.type === 'pipe' ? def.in : undefined;
    if (inner === undefined) break;
    def = inner._zod.def as unknown as LooseDef;
  }
  return def;
}

function squash(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** Levenshtein distance; both strings are short config keys, so O(n*m) is fine. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
