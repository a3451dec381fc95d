/**
 * Wiring only: turns a validated Config into running listeners, pools and the demo upstream.
 * No request logic lives here; see src/server/proxy-handler.ts for the request path.
 */
import { readFileSync } from 'node:fs';
import type { TemplatedApp } from 'uWebSockets.js';
import type { Config } from './config/index.js';
import { describeConfig, parseUpstreamAddress } from './config/index.js';
import { type AuditStage, startAuditStage } from './audit/index.js';
import { ForwardedCertificates, startAuthnStage } from './authn/index.js';
import { loadEvaluator } from './authz/index.js';
import { registerAdminRoutes, startPolicyStage, type PolicyStage } from './control/index.js';
import { type LoginStage, startLoginStage } from './login/index.js';
import { ServiceRegistry, type RouteSpec } from './routing/index.js';
import { createProxyHandler, type ServiceRuntime } from './server/proxy-handler.js';
import { uwsHandler } from './server/front-end-uws.js';
import { createDecisionHandler } from './server/decision-handler.js';
import { listenMtls, type MtlsListener } from './server/listener-mtls.js';
import { Lifecycle } from './server/lifecycle.js';
import { listenApp, type BoundListener } from './server/listen.js';
import { loadUWS } from './server/uws-loader.js';
import type { Logger } from './telemetry/index.js';
import {
  identityHeaderPlan, InternalJwtSigner, isReservedIdentityHeader, TrustedProxies, UpstreamGroup,
} from './upstream/index.js';
import { startDemoUpstream, type DemoUpstream } from './cli/demo-upstream.js';

/** A running proxy. */
export interface RunningProxy {
  readonly proxy: BoundListener;
  readonly admin: BoundListener;
  /** The mTLS listener, when `listeners.mtls` is configured. */
  readonly mtls: MtlsListener | undefined;
  /** The decision listener, when `listeners.decision` is configured. */
  readonly decision: BoundListener | undefined;
  readonly lifecycle: Lifecycle;
  /** The audit log, metrics, session table, live feed and revocations. */
  readonly audit: AuditStage;
  /**
   * Graceful stop: stop accepting, drain in-flight requests up to `drainTimeoutMs`, close pools.
   * Resolves true when every request finished, false when the deadline cut the drain short.
   */
  stop(drainTimeoutMs?: number): Promise<boolean>;
}

/** After a complete drain, how long mTLS connections may take to send what node still holds. */
const kMtlsCloseGraceMs = 1000;

function buildServices(config: Config): { routes: RouteSpec<ServiceRuntime>[];
  groups: UpstreamGroup[] } {
  const routes: RouteSpec<ServiceRuntime>[] = [];
  const groups: UpstreamGroup[] = [];
  for (const svc of config.services) {
    const up = svc.upstream;
    const parsed = up.addresses.map((text) => {
      const address = parseUpstreamAddress(text);
      if (address === undefined) throw new Error(`unparsable upstream address ${text}`);
      return address;
    });
    const isTLS = parsed.some((a) => a.isTLS);
    const tls = isTLS || up.tls !== undefined ? {
      ca: up.tls?.caFile === undefined ? undefined : readFileSync(up.tls.caFile),
      cert: up.tls?.certFile === undefined ? undefined : readFileSync(up.tls.certFile),
      key: up.tls?.keyFile === undefined ? undefined : readFileSync(up.tls.keyFile),
      passphrase: up.tls?.passphrase?.reveal(),
      servername: up.tls?.serverName,
      rejectUnauthorized: up.tls?.rejectUnauthorized ?? true,
    } : undefined;
    const group = new UpstreamGroup({
      addresses: parsed.map(({ host, port }) => ({ host, port })),
      policy: up.balance,
      failureCooldownMs: up.failureCooldownMs,
      pool: {
        maxConnections: up.maxConnections,
        maxQueued: up.maxQueued,
        connectTimeoutMs: up.connectTimeoutMs,
        headersTimeoutMs: up.headersTimeoutMs,
        bodyTimeoutMs: up.bodyTimeoutMs,
        idleTimeoutMs: up.idleTimeoutMs,
        maxResponseHeaderBytes: 64 * 1024,
        ...(tls === undefined ? {} : { tls }),
      },
    });
    groups.push(group);
    const runtime: ServiceRuntime = {
      name: svc.name, access: svc.access, maxBodyBytes: svc.maxBodyBytes, login: svc.login,
      identity: {
        headers: svc.identity.headers,
        forwardToken: svc.identity.forwardToken,
        internalJwt: svc.identity.internalJwt,
        plan: identityHeaderPlan(svc.identity.headerNames, svc.identity.attributes,
          isReservedIdentityHeader),
      },
      upstream: group,
    };
    routes.push({ hosts: svc.hosts, pathPrefix: svc.pathPrefix, stripPrefix: svc.stripPrefix,
      service: runtime });
  }
  return { routes, groups };
}

function createApp(config: Config, uws: ReturnType<typeof loadUWS>['uws']): TemplatedApp {
  const tls = config.listeners.proxy.tls;
  if (tls === undefined) return uws.App();
  return uws.SSLApp({
    cert_file_name: tls.certFile,
    key_file_name: tls.keyFile,
    ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase.reveal() }),
  });
}

/** Starts everything `config` describes. Throws PortcullisError on start-up failures. */
export async function startPortcullis(config: Config, logger: Logger): Promise<RunningProxy> {
  // Step 1: the native front end and the evaluator module (refuse slow or stale builds).
  const loaded = loadUWS(config.uws.allowFallback);
  if (!loaded.isNative) logger.warn('uWebSockets.js is running its slow JavaScript fallback');
  const evaluator = await loadEvaluator();

  // Step 2: the demo upstream, when the configuration asks for it.
  let demo: DemoUpstream | undefined;
  if (config.demo.enabled) demo = await startDemoUpstream('127.0.0.1', config.demo.port);

  // Step 3: authentication: every issuer's keys load before the proxy listens.
  let authn;
  try {
    authn = await startAuthnStage(config.authn, logger);
  } catch (err) {
    await demo?.close();
    throw err;
  }

  // Step 3b: the policy: a verified bundle is active before anything is served (or, with
  // configured sources that have none yet, every request is refused until one is).
  let policy: PolicyStage;
  try {
    policy = await startPolicyStage(config, evaluator, logger);
  } catch (err) {
    await authn.stop();
    await demo?.close();
    throw err;
  }

  // Step 3c: audit and revocations; revocations load before anything is served.
  let audit: AuditStage;
  try {
    audit = await startAuditStage(config.audit, config.revocation, {
      verifierPool: () => authn.poolStats(),
      issuers: () => authn.status(),
      bundle: () => {
        const active = policy.holder.status().active;
        return active === undefined ? undefined
          : { version: String(active.version), digest: active.digest };
      },
      policyActivations: () => policy.activations(),
    }, logger);
  } catch (err) {
    policy.stop();
    await authn.stop();
    await demo?.close();
    throw err;
  }

  // Step 3d: browser login: the login issuer's endpoints load before anything is served.
  let login: LoginStage | undefined;
  try {
    login = await startLoginStage(config, { authenticator: authn.authenticator,
      revocations: audit.revocations.set, logger });
  } catch (err) {
    await audit.stop(1_000);
    policy.stop();
    await authn.stop();
    await demo?.close();
    throw err;
  }

  // Step 4: services, upstream pools and the proxy listener.
  const internalJwt = config.internalJwt === undefined ? undefined : new InternalJwtSigner(
    config.internalJwt.issuer, config.internalJwt.signingKey.reveal(), config.internalJwt.ttlSec);
  const lifecycle = new Lifecycle();
  const { routes, groups } = buildServices(config);
  const pipeline = {
    registry: new ServiceRegistry(routes),
    trusted: new TrustedProxies(config.routing.trustedProxies),
    limits: config.limits,
    slashes: config.routing.slashes,
    requestIdHeader: config.routing.requestIdHeader,
    lifecycle,
    authenticator: authn.authenticator,
    internalJwt,
    audit: audit.log,
    revocations: audit.revocations.set,
    policy: policy.holder,
    forwardedCertProxies: new TrustedProxies(config.authn.forwardedClientCert.trustedProxies),
    forwardedCerts: new ForwardedCertificates(),
  } as const;
  const app = createApp(config, loaded.uws);
  // Browser login runs on the proxy listener only: the mTLS listener's callers are services.
  app.any('/*', uwsHandler(createProxyHandler({
    ...pipeline, proto: config.listeners.proxy.tls === undefined ? 'http' : 'https',
    login: login?.login,
  }), 'proxy', config.routing.requestIdHeader));
  // Step 4b: the decision listener: ingresses ask, nothing is forwarded. No browser login
  // there: a session cookie in a check is no credential, since the ingress would pass it on to
  // the service (nothing strips it) and cannot follow a redirect to log in (server/README.md).
  const decisionConfig = config.listeners.decision;
  const decisionApp = decisionConfig === undefined ? undefined : loaded.uws.App();
  decisionApp?.any('/*', uwsHandler(createDecisionHandler({
    ...pipeline, login: undefined,
    ingress: new TrustedProxies(decisionConfig?.trustedIngress ?? []),
    flavor: decisionConfig?.flavor ?? 'nginx', pathPrefix: decisionConfig?.pathPrefix,
  }), 'decision', config.routing.requestIdHeader));
  // Step 5: the admin listener, separate from the proxy.
  const adminApp = loaded.uws.App();
  registerAdminRoutes(adminApp, {
    isReady: () => !lifecycle.isDraining && policy.holder.engine !== undefined,
    readiness: () => {
      // Serving goes on with the last good keys when an issuer cannot be reached; readiness
      // says so ('degraded') without taking the instance out of rotation.
      const issuers = authn.status();
      const isDegraded = Object.values(issuers).some((s) => s.lastError !== undefined);
      return { degraded: isDegraded, evaluatorAbi: evaluator.abiVersion,
        inFlight: lifecycle.inFlight, services: config.services.length, issuers,
        revocations: audit.revocations.status(), audit: audit.log.stats(),
        policy: policy.status() };
    },
    describeConfig: () => describeConfig(config),
    adminToken: () => config.admin.token?.reveal(),
    jwks: () => internalJwt?.jwks(),
    audit: { stage: audit, defaultTtlSec: config.revocation.defaultTtlSec,
      maxRevocations: config.revocation.maxEntries },
    pushBundle: policy.push,
  });

  // Step 6: bind them all; a failure closes whatever was already opened.
  let proxy: BoundListener | undefined;
  let mtls: MtlsListener | undefined;
  let decision: BoundListener | undefined;
  let admin: BoundListener;
  try {
    proxy = await listenApp(loaded.uws, app, config.listeners.proxy.host,
      config.listeners.proxy.port);
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
        handle: createProxyHandler({ ...pipeline, proto: 'https' }),
      });
    }
    if (decisionApp !== undefined && decisionConfig !== undefined) {
      decision = await listenApp(loaded.uws, decisionApp, decisionConfig.host,
        decisionConfig.port);
    }
    admin = await listenApp(loaded.uws, adminApp, config.listeners.admin.host,
      config.listeners.admin.port);
  } catch (err) {
    proxy?.close();
    decision?.close();
    mtls?.close();
    await mtls?.closeConnections(0);
    await Promise.all(groups.map((g) => g.close()));
    await login?.stop();
    await audit.stop(1_000);
    policy.stop();
    await authn.stop();
    await demo?.close();
    throw err;
  }

  const bound = proxy;
  const boundMtls = mtls;
  const boundDecision = decision;
  const stop = async (drainTimeoutMs = config.shutdown.drainTimeoutMs): Promise<boolean> => {
    bound.close();
    boundMtls?.close();
    boundDecision?.close();
    const isDrained = await lifecycle.drain(drainTimeoutMs);
    // Every request has ended (or the drain gave up): serve nothing more, then write every
    // record before exiting.
    lifecycle.close();
    if (!isDrained) {
      logger.error('drain deadline passed: requests still in flight will have no record',
        { inFlight: lifecycle.inFlight });
    }
    // Responses already handed to node (and any refusal queued behind them) still go out.
    await boundMtls?.closeConnections(isDrained ? kMtlsCloseGraceMs : 0);
    await audit.stop(Math.max(5_000, drainTimeoutMs));
    await login?.stop();
    policy.stop();
    admin.close();
    await Promise.all(groups.map((g) => g.close()));
    await authn.stop();
    await demo?.close();
    return isDrained;
  };
  return { proxy: bound, admin, mtls: boundMtls, decision: boundDecision, lifecycle, audit, stop };
}
