/**
 * What the main thread and a serving thread say to each other (src/threads/README.md). Every
 * body is plain data: it crosses the thread boundary as a structured clone.
 */
import type {
  FeedItem, MetricsJSON, Revocation, RevocationChange, SessionFilter, SessionIdKind, SessionView,
} from '../audit/index.js';
import type { IssuerKeySet, VerifyResult } from '../authn/index.js';
import type { Config } from '../config/index.js';
import { SecretValue } from '../config/index.js';
import type { LoginShared, Session } from '../login/index.js';
import type { LogLevel } from '../telemetry/index.js';

/** A config whose secrets are marked plain text, so it can be cloned into a thread. */
export type PortableConfig = { readonly portable: unknown };

/** Where a serving thread starts from: `workerData`. Later changes come as notes. */
export interface ThreadStart {
  /** 1..N-1 (the main thread serves as 0). */
  readonly index: number;
  readonly config: PortableConfig;
  /** The ports the main thread bound (with port 0 in the config, the OS picked them). */
  readonly ports: { readonly proxy: number; readonly decision: number | undefined };
  readonly keySets: readonly IssuerKeySet[];
  readonly bundle: ActiveBundle | undefined;
  readonly revocations: readonly Revocation[];
  readonly isFeedOn: boolean;
  /** The main thread's log level: the thread's lines go out through the main thread's logger. */
  readonly logLevel: LogLevel;
  /** Browser login's cookie secret and provider endpoints, when `login` is configured. */
  readonly login: LoginShared | undefined;
}

/** A bundle the main thread verified and activated. */
export interface ActiveBundle {
  readonly bytes: Uint8Array;
  readonly source: string;
}

/** Notes from the main thread. */
export type MainNote =
  | { readonly kind: 'keys'; readonly keySet: IssuerKeySet }
  | { readonly kind: 'bundle'; readonly bundle: ActiveBundle }
  | { readonly kind: 'revocation'; readonly change: RevocationChange }
  | { readonly kind: 'feed'; readonly isOn: boolean }
  | { readonly kind: 'session-forget'; readonly id: string };

/** Requests from the main thread, and what a serving thread answers. */
export type MainRequest =
  | { readonly kind: 'sessions'; readonly filter: SessionFilter }
  | { readonly kind: 'latest-expiry'; readonly idKind: SessionIdKind;
    readonly issuer: string | null; readonly value: string }
  | { readonly kind: 'session-keys' }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'stats' }
  | { readonly kind: 'sync' }
  | { readonly kind: 'drain'; readonly deadlineMs: number };

export type SessionsAnswer = SessionView[];
export type LatestExpiryAnswer = number | undefined;
export type MetricsAnswer = MetricsJSON;

/** A serving thread's counters, for /readyz. */
export interface ThreadStats {
  readonly index: number;
  readonly inFlight: number;
  readonly served: number;
  readonly audit: { readonly depth: number; readonly written: number; readonly dropped: number;
    readonly writeErrors: number; readonly shed: number };
}

/** How a serving thread's drain ended. */
export interface DrainAnswer {
  readonly isDrained: boolean;
  /** Its audit records that could not be written. */
  readonly lost: number;
}

/** Requests from a serving thread. */
export type ThreadRequest =
  | { readonly kind: 'verify'; readonly items: readonly VerifyItem[] }
  | { readonly kind: 'refetch'; readonly issuer: string; readonly kid: string }
  | { readonly kind: 'audit'; readonly bytes: Uint8Array }
  | { readonly kind: 'session-find'; readonly id: string; readonly nowMs: number }
  | { readonly kind: 'session-save'; readonly session: Session }
  | { readonly kind: 'session-remove'; readonly id: string };

export type SessionFindAnswer = Session | undefined;

/** One token to verify: token, issuer, allowed algorithms. */
export type VerifyItem = readonly [string, string, readonly string[]];
export type VerifyAnswer = VerifyResult[];

/** Notes from a serving thread. */
export type ThreadNote =
  | { readonly kind: 'feed-items'; readonly items: readonly FeedItem[]; readonly skipped: number }
  | { readonly kind: 'ready' }
  /** JSON log lines the thread's logger wrote: the main thread's output carries them. */
  | { readonly kind: 'log'; readonly lines: string }
  | { readonly kind: 'failed'; readonly code: string; readonly detail: string };

const kSecret = '\u0000portcullis-secret';

/** `config` with each secret as `{ [kSecret]: text }` (a SecretValue does not clone). */
export function portableConfig(config: Config): PortableConfig {
  const walk = (value: unknown): unknown => {
    if (value instanceof SecretValue) return { [kSecret]: value.reveal() };
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return { portable: walk(config) };
}

/** The config `portableConfig` marked, with its secrets wrapped again; deeply frozen. */
export function configFrom(portable: PortableConfig): Config {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return Object.freeze(value.map(walk));
    if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record[kSecret] === 'string') return new SecretValue(record[kSecret]);
      const entries = Object.entries(record).map(([k, v]) => [k, walk(v)]);
      return Object.freeze(Object.fromEntries(entries));
    }
    return value;
  };
  return walk(portable.portable) as Config;
}
