/**
 * The CI gate's arithmetic, kept pure so it is unit-tested: per-round ratios of two measured
 * series, their median, and the verdict against a committed floor. Every gate ratio reads
 * "higher is better" (a speed relative to a yardstick measured in the same run), so a gate
 * fails when its median falls below its floor, never on an absolute time.
 */
import { median } from '../e2e/forwarding-summary.js';

/** One committed floor (bench/ci/floors.ts). */
export interface GateFloor {
  /** `stage/case`: which ratio. */
  readonly name: string;
  /** What the ratio divides, in words. */
  readonly ratio: string;
  /** The gate fails when the median ratio of a run is below this. */
  readonly floor: number;
  /** How the floor was chosen: the values measured here and the margin taken. */
  readonly chosen: string;
}

/** One gate's outcome. */
export interface GateVerdict {
  name: string;
  ratio: string;
  floor: number;
  perRound: number[];
  /** NaN when not measured. */
  median: number;
  pass: boolean;
  line: string;
}

/** `numerator[i] / denominator[i]` for each round both have (finite, positive values only). */
export function ratiosPerRound(numerator: readonly number[], denominator: readonly number[]):
  number[] {
  const ratios: number[] = [];
  const rounds = Math.min(numerator.length, denominator.length);
  for (let i = 0; i < rounds; i++) {
    const ratio = (numerator[i] as number) / (denominator[i] as number);
    if (Number.isFinite(ratio) && ratio > 0) ratios.push(ratio);
  }
  return ratios;
}

/**
 * Judges each floor against its measured per-round ratios (`measured`, by floor name). A floor
 * with no ratio measured fails with `why` (or "not measured"); a measurement without a floor is
 * ignored.
 */
export function judgeGate(floors: readonly GateFloor[],
  measured: ReadonlyMap<string, readonly number[]>, why?: ReadonlyMap<string, string>):
  GateVerdict[] {
  return floors.map((f) => {
    const perRound = [...measured.get(f.name) ?? []];
    const base = { name: f.name, ratio: f.ratio, floor: f.floor, perRound };
    if (perRound.length === 0) {
      const reason = why?.get(f.name) ?? 'not measured';
      return { ...base, median: Number.NaN, pass: false, line: `FAIL ${f.name}: ${reason}` };
    }
    const mid = median(perRound);
    const pass = mid >= f.floor;
    const rounds = perRound.map((r) => r.toFixed(3)).join(', ');
    const miss = pass ? `>= floor ${f.floor}`
      : `below floor ${f.floor} by ${((1 - mid / f.floor) * 100).toFixed(1)}%`;
    return { ...base, median: mid, pass,
      line: `${pass ? 'PASS' : 'FAIL'} ${f.name}: median ${mid.toFixed(3)} (rounds ${rounds}) `
        + miss };
  });
}
