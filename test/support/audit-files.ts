/**
 * Reads decision records back from an audit file and its rotated siblings (oldest first), for
 * the tests that count records against requests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One record as written (see src/audit/README.md for the fields). */
export type WrittenRecord = Record<string, unknown> & {
  readonly requestId: string;
  readonly decision: string | null;
  readonly outcome: string;
  readonly code: string | null;
  readonly status: number;
  readonly principal: Record<string, unknown> | null;
};

/** Every line of `file` and of `file.<UTC time>[-N]`, rotated files first, each parsed. */
export function readRecords(file: string): WrittenRecord[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const rotated = readdirSync(dir).filter((n) => n.startsWith(`${base}.`)).sort();
  const names = [...rotated, ...(readdirSync(dir).includes(base) ? [base] : [])];
  return names.flatMap((n) => readFileSync(path.join(dir, n), 'utf8').split('\n'))
    .filter((line) => line !== '').map((line) => JSON.parse(line) as WrittenRecord);
}

/** Records by request id; throws when one id has two records. */
export function byRequestId(records: readonly WrittenRecord[]): Map<string, WrittenRecord> {
  const out = new Map<string, WrittenRecord>();
  for (const r of records) {
    if (out.has(r.requestId)) throw new Error(`two records for request ${r.requestId}`);
    out.set(r.requestId, r);
  }
  return out;
}
