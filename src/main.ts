/**
 * Wiring only: turns a validated Config into running listeners, pools and the demo upstream.
 * No request logic lives here; see src/server/proxy-handler.ts for the request path, and
 * src/threads/ for the serving threads that share the proxy port when `threads` > 1.
 */
import { readFileSync } from 'node:fs';
import type { Config } from './config/index.js';
import { describeConfig } from './config/index.js';
import { type AuditStage, startAuditStage } from './audit/index.js';
import { startAuthnStage } from './authn/index.js';
import { loadEvaluator } from './authz/index.js';
import { registerAdminRoutes, startPolicyStage, type PolicyStage } from './control/index.js';
import { type LoginStage, startLoginStage } from './login/index.js';
import { createProxyHandler } from './server/proxy-handler.js';
import { listenMtls, type MtlsListener } from './server/listener-mtls.js';
import type { Lifecycle } from './server/lifecycle.js';
import { listenApp, pickFreePort, type BoundListener } from './server/listen.js';
import { buildServingPipeline } from './server/pipeline.js';
import { loadUWS } from './server/uws-loader.js';
import type { Logger } from './telemetry/index.js';
import {
  type ActiveBundle, type ServingThreads, servingThreadCount, type StartedThreads,
  startServingThreads,
} from './threads/index.js';
import { startDemoUpstream, type DemoUpstream } from './cli/demo-upstream.js';

/** A running proxy. */
export interface RunningProxy {
  readonly proxy: BoundListener;
  readonly admin: BoundListener;
  /** The mTLS listener, when `listeners.mtls` is configured. */
  readonly mtls: MtlsListener | undefined;
  /** The decision listener, when `listeners.decision` is configured. */
  readonly decision: BoundListener | undefined;
  /** The main thread's request lifecycle (serving threads have their own). */
  readonly lifecycle: Lifecycle;
  /** The audit log, metrics, session table, live feed and revocations. */
  readonly audit: AuditStage;
  /** The serving threads besides the main thread, when `threads` > 1. */
  readonly threads: ServingThreads | undefined;
  /**
   * Graceful stop: stop accepting, drain in-flight requests up to `drainTimeoutMs` on every
   * thread, write every record, close pools, and wait (up to `kThreadExitMs`) for the serving
   * threads to end. Resolves true when every request finished, false when the deadline cut the
   * drain short.
   */
  stop(drainTimeoutMs?: number): Promise<boolean>;
}

/** After a complete drain, how long mTLS connections may take to send what node still holds. */
const kMtlsCloseGraceMs = 1000;
/**
 * How long a drained serving thread may take to end: uWebSockets.js 20.30 closes an idle
 * keep-alive connection only at its idle timeout (10 s, checked every 4 s), and a thread with an
 * open connection cannot be stopped without aborting the process (src/threads/README.md).
 */
export const kThreadExitMs = 20_000;

/** Starts everything `config` describes. Throws PortcullisError on start-up failures. */
export async function startPortcullis(config: Config, logger: Logger): Promise<RunningProxy> {
  // Step 1: the native front end, the evaluator module (refuse slow or stale builds), and how
  // many uWS loops will serve.
  const loaded = loadUWS(config.uws.allowFallback);
  if (!loaded.isNative) logger.warn('uWebSockets.js is running its slow JavaScript fallback');
  const evaluator = await loadEvaluator();
  const threadCount = servingThreadCount(config);
  const stops: Array<() => Promise<unknown> | void> = [];
  const unwind = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
  };

  try {
    // Step 2: the demo upstream, when the configuration asks for it.
    let demo: DemoUpstream | undefined;
    if (config.demo.enabled) demo = await startDemoUpstream('127.0.0.1', config.demo.port);
    stops.push(() => demo?.close());

    // Step 3: authentication: every issuer's keys load before the proxy listens.
    const authn = await startAuthnStage(config.authn, logger);
    stops.push(() => authn.stop());

    // Step 3b: the policy: a verified bundle is active before anything is served (or, with
    // configured sources that have none yet, every request is refused until one is). Every
    // bundle activated later reaches the serving threads.
    let bundle: ActiveBundle | undefined;
    let onBundle: ((active: ActiveBundle) => void) | undefined;
    let started: StartedThreads | undefined;
    const policy: PolicyStage = await startPolicyStage(config, evaluator, logger,
      (bytes, source) => {
        bundle = { bytes, source };
        onBundle?.(bundle);
      });
    stops.push(() => policy.stop());

    // Step 3c: audit and revocations; revocations load before anything is served.
    let sessionsActive: number | undefined;
    const audit = await startAuditStage(config.audit, config.revocation, {
      verifierPool: () => authn.poolStats(),
      issuers: () => authn.status(),
      bundle: () => {
        const active = policy.holder.status().active;
        return active === undefined ? undefined
          : { version: String(active.version), digest: active.digest };
      },
      policyActivations: () => policy.activations(),
      ...(threadCount > 1 ? { sessions: () => sessionsActive ?? audit.sessions.size } : {}),
    }, logger);
    stops.push(() => audit.stop(1_000));

    // Step 3d: browser login: the login issuer's endpoints load before anything is served.
    // A session ended here (logout) is forgotten by every serving thread before the answer.
    const login: LoginStage | undefined = await startLoginStage(config, {
      authenticator: authn.authenticator, revocations: audit.revocations.set, logger,
      onRemove: async (id) => {
        started?.threads.tell({ kind: 'session-forget', id });
        await started?.threads.sync();
      },
    });
    stops.push(() => login?.stop());

    // Step 4: this thread's request path, its upstream pools and its apps.
    const pipeline = buildServingPipeline(config, loaded.uws, {
      authenticator: authn.authenticator, audit: audit.log,
      revocations: audit.revocations.set, policy: policy.holder, login: login?.login,
    });
    const { lifecycle } = pipeline;
    stops.push(() => Promise.all(pipeline.groups.map((g) => g.close())));

    // Step 5: the admin listener, separate from the proxy.
    const adminApp = loaded.uws.App();
    registerAdminRoutes(adminApp, {
      isReady: () => !lifecycle.isDraining && policy.holder.engine !== undefined,
      readiness: async () => {
        // Serving goes on with the last good keys when an issuer cannot be reached; readiness
        // says so ('degraded') without taking the instance out of rotation.
        const issuers = authn.status();
        const own = { index: 0, inFlight: lifecycle.inFlight, served: audit.log.emitted,
          audit: audit.log.stats() };
        const threads = await started?.stats(own) ?? [own];
        const isDegraded = Object.values(issuers).some((s) => s.lastError !== undefined)
          || (started !== undefined && started.threads.alive < started.threads.size);
        return { degraded: isDegraded, evaluatorAbi: evaluator.abiVersion,
          inFlight: threads.reduce((n, t) => n + t.inFlight, 0),
          services: config.services.length, issuers,
          revocations: audit.revocations.status(), audit: sumAudit(threads),
          policy: policy.status(), threads };
      },
      describeConfig: () => describeConfig(config),
      adminToken: () => config.admin.token?.reveal(),
      jwks: () => pipeline.options.internalJwt?.jwks(),
      audit: { stage: audit, defaultTtlSec: config.revocation.defaultTtlSec,
        maxRevocations: config.revocation.maxEntries,
        threads: threadCount > 1 ? {
          sessions: (filter) => started?.audit.sessions(filter) ?? Promise.resolve([]),
          latestExpirySec: (kind, issuer, value) =>
            started?.audit.latestExpirySec(kind, issuer, value) ?? Promise.resolve([]),
          metrics: () => started?.audit.metrics() ?? Promise.resolve([]),
          sync: () => started?.audit.sync() ?? Promise.resolve(),
        } : undefined },
      pushBundle: policy.push === undefined ? undefined : async (bytes, signature) => {
        const result = await policy.push!(bytes, signature);
        // Every serving thread decides with it before the answer.
        await started?.audit.sync();
        return result;
      },
    });

    // Step 6: bind this thread's listeners; each is closed if a later step fails. Ports that
    // serving threads join need a number, not 0 (listen.ts).
    const sharedPort = async (host: string, port: number): Promise<number> =>
      (port === 0 && threadCount > 1 ? pickFreePort(host) : port);
    const proxyHost = config.listeners.proxy.host;
    const proxy = await listenApp(loaded.uws, pipeline.app, proxyHost,
      await sharedPort(proxyHost, config.listeners.proxy.port));
    stops.push(() => proxy.close());
    let mtls: MtlsListener | undefined;
    const mtlsConfig = config.listeners.mtls;
    if (mtlsConfig !== undefined) {
      mtls = await listenMtls({
        host: mtlsConfig.host,
        port: mtlsConfig.port,
        cert: readFileSync(mtlsConfig.certFile),
        key: readFileSync(mtlsConfig.keyFile),
        passphrase: mtlsConfig.passphrase?.reveal(),
        ca: mtlsConfig.caFiles.map((file) => readFileSync(file)),
        crl: mtlsConfig.crlFile === undefined ? undefined : readFileSync(mtlsConfig.crlFile),
        limits: config.limits,
        requestIdHeader: config.routing.requestIdHeader,
        handle: createProxyHandler({ ...pipeline.options, proto: 'https' }),
      });
      const bound = mtls;
      stops.push(async () => {
        bound.close();
        await bound.closeConnections(0);
      });
    }
    const decisionConfig = config.listeners.decision;
    let decision: BoundListener | undefined;
    if (pipeline.decisionApp !== undefined && decisionConfig !== undefined) {
      decision = await listenApp(loaded.uws, pipeline.decisionApp, decisionConfig.host,
        await sharedPort(decisionConfig.host, decisionConfig.port));
      const bound = decision;
      stops.push(() => bound.close());
    }
    const admin = await listenApp(loaded.uws, adminApp, config.listeners.admin.host,
      config.listeners.admin.port);
    stops.push(() => admin.close());

    // Step 7: the other serving threads join the proxy and decision ports.
    if (threadCount > 1) {
      started = await startServingThreads(threadCount - 1, {
        config, authn, audit, bundle, login, logger,
        onBundle: (listener) => {
          onBundle = listener;
        },
        ports: { proxy: proxy.port, decision: decision?.port },
      }, (count) => {
        sessionsActive = count;
      });
    }

    const threads = started?.threads;
    const stop = async (drainTimeoutMs = config.shutdown.drainTimeoutMs): Promise<boolean> => {
      proxy.close();
      mtls?.close();
      decision?.close();
      const threadsDrained = threads?.drain(drainTimeoutMs);
      const isMainDrained = await lifecycle.drain(drainTimeoutMs);
      // Every request has ended (or the drain gave up): serve nothing more, then write every
      // record (the threads' went through this thread's sink while they drained) before exiting.
      lifecycle.close();
      const drained = await threadsDrained ?? { isDrained: true, lost: 0 };
      const isDrained = isMainDrained && drained.isDrained;
      if (!isDrained) {
        logger.error('drain deadline passed: requests still in flight will have no record',
          { inFlight: lifecycle.inFlight });
      }
      if (drained.lost > 0) logger.error('audit records lost at shutdown', { lost: drained.lost });
      // Responses already handed to node (and any refusal queued behind them) still go out.
      await mtls?.closeConnections(isDrained ? kMtlsCloseGraceMs : 0);
      await audit.stop(Math.max(5_000, drainTimeoutMs));
      await login?.stop();
      policy.stop();
      admin.close();
      await Promise.all(pipeline.groups.map((g) => g.close()));
      await authn.stop();
      await demo?.close();
      await threads?.exited(kThreadExitMs);
      return isDrained;
    };
    return { proxy, admin, mtls, decision, lifecycle, audit, threads, stop };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** The audit counters of every thread, summed. */
function sumAudit(threads: readonly { audit: Record<string, number> }[]):
  Record<string, number> {
  const sum: Record<string, number> = {};
  for (const t of threads) {
    for (const [key, value] of Object.entries(t.audit)) sum[key] = (sum[key] ?? 0) + value;
  }
  return sum;
}
