/**
 * A serving thread (`threads` > 1): its own uWS loop on the main thread's proxy and decision
 * ports, with its own request path, caches, upstream pools and WASM instance. What must be the
 * same on every thread comes from the main thread: key sets, the active bundle, revocations and
 * whether the feed has subscribers (notes, applied in order), signature checks (the shared pool)
 * and the audit sink (batches of lines). See src/threads/README.md.
 *
 * Wiring only, like src/main.ts: the request path is src/server/proxy-handler.ts.
 */
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { AuditLog, ProxyMetrics, recordParts, RevocationSet } from '../audit/index.js';
import {
  Authenticator, type CachedDerivation, issuerRuntimes, signatureRouting, tokenLimits,
  VerifiedTokenCache,
} from '../authn/index.js';
import { loadEvaluator, PolicyEngine, PolicyHolder } from '../authz/index.js';
import type { Config } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import { startLoginStage } from '../login/index.js';
import { decodeBundle } from '../policy/index.js';
import { type BoundListener, listenApp } from '../server/listen.js';
import { buildServingPipeline } from '../server/pipeline.js';
import { loadUWS } from '../server/uws-loader.js';
import { Logger } from '../telemetry/index.js';
import { Channel, type PortLike } from './channel.js';
import { FeedRelay } from './feed-relay.js';
import { KeySetReplica } from './key-set-replica.js';
import { PortSink } from './port-sink.js';
import {
  type ActiveBundle, configFrom, type DrainAnswer, type MainNote, type MainRequest,
  type ThreadNote, type ThreadStart, type ThreadStats,
} from './protocol.js';
import { RemoteVerifier } from './remote-verifier.js';
import { ThreadSessionStore } from './thread-session-store.js';

/** As on the main thread (src/audit/setup.ts): feed ticks and session sweeps. */
const kFeedTickMs = 100;
const kFeedRecordsPerTick = 500;
const kSessionSweepMs = 30_000;
const kRevocationSweepMs = 60_000;

type Note<K extends MainNote['kind']> = Extract<MainNote, { kind: K }>;
type Ask<K extends MainRequest['kind']> = Extract<MainRequest, { kind: K }>;

/**
 * The authentication stage of this thread: the main thread's keys (and pool, for algorithms not
 * verified inline), its own inline verifier and cache.
 */
function threadAuthn(config: Config, channel: Channel) {
  const authn = config.authn;
  if (authn.issuers.length === 0) return undefined;
  const replicas = new Map<string, KeySetReplica>();
  for (const issuer of authn.issuers) {
    if (issuer.jwksFile !== undefined || issuer.jwksUrl !== undefined || issuer.discovery) {
      replicas.set(issuer.issuer, new KeySetReplica(issuer.issuer, channel));
    }
  }
  // The main thread's pool for algorithms not verified here, when there are any.
  const { inline, fallback } = signatureRouting(authn.pool,
    () => new RemoteVerifier(channel, authn.pool.maxQueue));
  const cache = new VerifiedTokenCache<CachedDerivation>(authn.cache.maxEntries,
    authn.cache.maxBytes);
  const { issuers, opaque } = issuerRuntimes(authn, (name) => replicas.get(name));
  const authenticator = new Authenticator({
    issuers, pool: fallback,
    ...(inline === undefined ? {} : { inline }), cache, limits: tokenLimits(authn),
    ...(opaque === undefined ? {} : { opaque }),
  });
  return { authenticator, replicas, inline: inline?.verifier, cache };
}

/** The audit stage of this thread: its own queue (to the main thread's sink), table, metrics. */
function threadAudit(config: Config, channel: Channel, logger: Logger) {
  const sink = config.audit.sink === 'none' ? undefined : new PortSink(channel);
  const { format, queue, sessions } = recordParts(config.audit, sink, logger);
  const feed = new FeedRelay(channel, (r) => format(r).slice(0, -1), kFeedRecordsPerTick,
    kFeedTickMs);
  let log: AuditLog | undefined;
  const metrics = new ProxyMetrics({
    audit: () => log?.stats() ?? { depth: 0, written: 0, dropped: 0, writeErrors: 0, shed: 0 },
  });
  log = new AuditLog({ queue, metrics, sessions, feed });
  return { log, metrics, sessions, feed };
}

/** Log output that hands each line to the main thread's logger (one output for all threads). */
function relayTo(tell: (note: ThreadNote) => void): Writable {
  return new Writable({ decodeStrings: false, write(chunk: string | Buffer, _encoding, done) {
    tell({ kind: 'log', lines: chunk.toString() });
    done();
  } });
}

async function serve(start: ThreadStart, port: PortLike): Promise<void> {
  // Step 1: configuration, the native front end, the evaluator, the channel.
  const config = configFrom(start.config);
  const channel = new Channel(port);
  const tell = (note: ThreadNote): void => channel.note(note);
  const logger = new Logger(start.logLevel, relayTo(tell));
  const { uws } = loadUWS(config.uws.allowFallback);
  const evaluator = await loadEvaluator();

  // Step 2: this thread's stages, started from the main thread's state.
  const authn = threadAuthn(config, channel);
  const applyKeys = (keySet: Note<'keys'>['keySet']): void => {
    if (authn?.replicas.get(keySet.issuer)?.update(keySet) !== true) return;
    authn.inline?.setKeySet(keySet);
    authn.cache.flushIssuer(keySet.issuer);
  };
  start.keySets.forEach(applyKeys);
  const policy = new PolicyHolder();
  const applyBundle = (bundle: ActiveBundle): void => {
    policy.swap(new PolicyEngine(evaluator, decodeBundle(bundle.bytes)), bundle.source);
  };
  if (start.bundle !== undefined) applyBundle(start.bundle);
  const revocations = new RevocationSet();
  revocations.replace(start.revocations);
  const audit = threadAudit(config, channel, logger);
  audit.feed.setOn(start.isFeedOn);
  const timers = [
    setInterval(() => audit.sessions.sweep(), kSessionSweepMs),
    setInterval(() => revocations.sweep(), kRevocationSweepMs),
  ];
  timers.forEach((t) => t.unref());

  // Step 3: what the main thread changes later, in the order it changed it.
  channel.onNote<Note<'keys'>>('keys', (n) => applyKeys(n.keySet));
  channel.onNote<Note<'bundle'>>('bundle', (n) => applyBundle(n.bundle));
  channel.onNote<Note<'revocation'>>('revocation', (n) => revocations.apply(n.change));
  channel.onNote<Note<'feed'>>('feed', (n) => audit.feed.setOn(n.isOn));

  // Step 4: browser login with the main thread's cookie secret, endpoints and sessions.
  const sessions = config.login === undefined || start.login === undefined ? undefined
    : new ThreadSessionStore(channel, config.revocation.store, config.login.sessions.maxEntries,
      config.login.sessions.idleTimeoutSec * 1000);
  channel.onNote<Note<'session-forget'>>('session-forget', (n) => sessions?.forget(n.id));
  const login = sessions === undefined ? undefined : await startLoginStage(config, {
    authenticator: authn?.authenticator, revocations, logger, shared: start.login,
    store: sessions });

  // Step 5: the request path and its listeners, on the ports the main thread holds.
  const pipeline = buildServingPipeline(config, uws, { authenticator: authn?.authenticator,
    audit: audit.log, revocations, policy, login: login?.login });
  const host = config.listeners.proxy.host;
  const listeners: BoundListener[] = [
    await listenApp(uws, pipeline.app, host, start.ports.proxy, true)];
  const decision = config.listeners.decision;
  if (pipeline.decisionApp !== undefined && decision !== undefined
    && start.ports.decision !== undefined) {
    listeners.push(await listenApp(uws, pipeline.decisionApp, decision.host,
      start.ports.decision, true));
  }

  // Step 6: the main thread's questions.
  channel.onRequest<Ask<'sessions'>>('sessions', (q) => audit.sessions.list(q.filter));
  channel.onRequest<Ask<'latest-expiry'>>('latest-expiry',
    (q) => audit.sessions.latestExpirySec(q.idKind, q.issuer, q.value));
  channel.onRequest<Ask<'session-keys'>>('session-keys',
    () => audit.sessions.list({ limit: 0 }).map((row) => row.key));
  channel.onRequest<Ask<'metrics'>>('metrics', () => audit.metrics.json());
  channel.onRequest<Ask<'sync'>>('sync', () => true);
  channel.onRequest<Ask<'stats'>>('stats', (): ThreadStats => ({ index: start.index,
    inFlight: pipeline.lifecycle.inFlight, served: audit.log.emitted, audit: audit.log.stats() }));
  channel.onRequest<Ask<'drain'>>('drain', async (q): Promise<DrainAnswer> => {
    // Stop accepting, let requests in flight end, then hand every record to the main thread.
    listeners.forEach((l) => l.close());
    const isDrained = await pipeline.lifecycle.drain(q.deadlineMs);
    pipeline.lifecycle.close();
    const lost = await audit.log.close(Math.max(5_000, q.deadlineMs));
    // After the answer is posted: release everything but the idle connections uWS still holds
    // (it closes them after its idle timeout; then this thread's loop is empty and it exits).
    setImmediate(() => {
      timers.forEach((t) => clearInterval(t));
      void login?.stop();
      void Promise.all(pipeline.groups.map((g) => g.close())).finally(() => {
        channel.close('drained');
        parentPort?.close();
      });
    });
    return { isDrained, lost };
  });
  tell({ kind: 'ready' });
}

if (parentPort !== null) {
  const port = parentPort;
  serve(workerData as ThreadStart, port).catch((err: unknown) => {
    const code = err instanceof PortcullisError ? err.code : 'IAM_SERVER_THREAD_FAILED';
    port.postMessage({ note: { kind: 'failed', code, detail: (err as Error).message } });
  });
}
