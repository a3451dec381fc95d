/**
 * Wiring of the serving threads on the main thread: how many there are, what they start from,
 * which changes they are told, what they may use of the main thread's stages, and what the admin
 * API gathers from them. src/main.ts calls it once its own listeners are bound.
 */
import { availableParallelism } from 'node:os';
import type { AuditStage, SessionView } from '../audit/index.js';
import type { AuthnStage } from '../authn/index.js';
import type { Config } from '../config/index.js';
import type { ThreadAudit } from '../control/index.js';
import type { LoginStage } from '../login/index.js';
import type { Logger } from '../telemetry/index.js';
import { type ActiveBundle, portableConfig, type ThreadStats } from './protocol.js';
import { ServingThreads } from './serving-threads.js';

/** The most uWS loops `auto` starts; more rarely pays on one host. */
const kMaxAutoThreads = 16;

/**
 * How many uWS loops serve the proxy port, the main thread's included. `auto` is one per CPU the
 * process may use (its affinity: `taskset -c 0` gives 1), at most `kMaxAutoThreads`.
 */
export function servingThreadCount(config: Config): number {
  return config.threads === 'auto' ? Math.min(availableParallelism(), kMaxAutoThreads)
    : config.threads;
}

/** The main thread's stages the serving threads share. */
export interface SharedStages {
  readonly config: Config;
  readonly authn: AuthnStage;
  readonly audit: AuditStage;
  /** The bundle active now (verified), if any. */
  readonly bundle: ActiveBundle | undefined;
  /** Registers the one listener of every bundle activated from now on. */
  onBundle(listener: (bundle: ActiveBundle) => void): void;
  readonly ports: { readonly proxy: number; readonly decision: number | undefined };
  /** Browser login, whose sessions the threads look up here. */
  readonly login: LoginStage | undefined;
  readonly logger: Logger;
}

/** Running serving threads, with what the admin API reads from them. */
export interface StartedThreads {
  readonly threads: ServingThreads;
  readonly audit: ThreadAudit;
  /** Per-thread counters, the main thread's first (index 0) as `own` gives them. */
  stats(own: ThreadStats): Promise<ThreadStats[]>;
}

/**
 * Starts `count` serving threads besides the main thread and hooks them to every change (key
 * sets, bundles, revocations, feed subscribers). `sessionsActive` receives the number of
 * distinct sessions over all tables before each metrics scrape.
 */
export async function startServingThreads(count: number, stages: SharedStages,
  sessionsActive: (count: number) => void): Promise<StartedThreads> {
  const { authn, audit } = stages;

  // 1. Spawn from a snapshot, and hook every change in the same turn, so none falls between.
  const threads = ServingThreads.spawn(count, {
    config: portableConfig(stages.config),
    ports: stages.ports,
    keySets: [...authn.sources.values()].flatMap((s) => s.current() ?? []),
    bundle: stages.bundle,
    revocations: audit.revocations.set.list(),
    isFeedOn: audit.feed.subscribers > 0,
    logLevel: stages.logger.level,
    login: stages.login?.shared,
  }, {
    verify: (items) => Promise.all(items.map(([token, issuer, algorithms]) =>
      authn.pool?.verify(token, issuer, algorithms)
        ?? Promise.resolve({ ok: false, code: 'IAM_AUTHN_KEYS_UNAVAILABLE' } as const))),
    refetch: (issuer, kid) => authn.sources.get(issuer)?.refreshForUnknownKid(kid)
      ?? Promise.resolve(false),
    writeAudit: (bytes) => audit.writeLines(bytes),
    feedItems: (items, skipped) => {
      for (const item of items) audit.feed.offerItem(item);
      audit.feed.noteSkipped(skipped);
    },
    sessions: stages.login?.store,
  }, stages.logger);
  for (const source of authn.sources.values()) {
    source.onChange((keySet) => threads.tell({ kind: 'keys', keySet }));
  }
  audit.revocations.set.onChange((change) => threads.tell({ kind: 'revocation', change }));
  audit.feed.onActiveChange((isOn) => threads.tell({ kind: 'feed', isOn }));
  stages.onBundle((bundle) => threads.tell({ kind: 'bundle', bundle }));
  await threads.ready();

  // 2. What the admin API gathers.
  const threadAudit: ThreadAudit = {
    sessions: (filter) => threads.ask<SessionView[]>({ kind: 'sessions', filter }),
    latestExpirySec: (idKind, issuer, value) =>
      threads.ask<number | undefined>({ kind: 'latest-expiry', idKind, issuer, value }),
    metrics: async () => {
      const keys = new Set(audit.sessions.list({ limit: 0 }).map((row) => row.key));
      for (const theirs of await threads.ask<string[]>({ kind: 'session-keys' })) {
        for (const key of theirs) keys.add(key);
      }
      sessionsActive(keys.size);
      return threads.ask({ kind: 'metrics' });
    },
    sync: () => threads.sync(),
  };
  return {
    threads,
    audit: threadAudit,
    stats: async (own) => [own, ...await threads.ask<ThreadStats>({ kind: 'stats' })],
  };
}
