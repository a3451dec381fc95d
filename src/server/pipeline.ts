/**
 * What every serving thread builds from the same configuration: the services with their upstream
 * pools, the registry, and the uWS apps of the proxy and decision listeners around one request
 * path. src/main.ts builds it on the main thread; src/threads/serving-worker.ts builds it in each
 * other serving thread, with that thread's own caches and replicas in `parts`.
 */
import { readFileSync } from 'node:fs';
import type { TemplatedApp } from 'uWebSockets.js';
import type { AuditLog, RevocationSet } from '../audit/index.js';
import { type Authenticator, ForwardedCertificates } from '../authn/index.js';
import type { PolicyHolder } from '../authz/index.js';
import { type Config, parseUpstreamAddress } from '../config/index.js';
import type { BrowserLogin } from '../login/index.js';
import { type RouteSpec, ServiceRegistry } from '../routing/index.js';
import {
  identityHeaderPlan, InternalJwtSigner, isReservedIdentityHeader, TrustedProxies, UpstreamGroup,
} from '../upstream/index.js';
import { createDecisionHandler } from './decision-handler.js';
import { uwsHandler } from './front-end-uws.js';
import { Lifecycle } from './lifecycle.js';
import {
  createProxyHandler, type ProxyHandlerOptions, type ServiceRuntime,
} from './proxy-handler.js';
import type { UWS } from './uws-loader.js';

/** The per-thread state the request path reads; each thread has its own. */
export interface PipelineParts {
  readonly authenticator: Authenticator | undefined;
  readonly audit: AuditLog;
  readonly revocations: RevocationSet;
  readonly policy: PolicyHolder;
  /** Browser login, on the proxy listener only; undefined when off. */
  readonly login: BrowserLogin | undefined;
}

/** One thread's request path and the apps that serve it (not yet listening). */
export interface ServingPipeline {
  /** The handler options without `proto` (the mTLS listener adds its own). */
  readonly options: Omit<ProxyHandlerOptions, 'proto'>;
  readonly lifecycle: Lifecycle;
  readonly app: TemplatedApp;
  /** The decision listener's app, when `listeners.decision` is configured. */
  readonly decisionApp: TemplatedApp | undefined;
  /** Upstream pools, to close after the drain. */
  readonly groups: readonly UpstreamGroup[];
}

/** Services and their upstream pools, in configuration order. */
export function buildServices(config: Config): { routes: RouteSpec<ServiceRuntime>[];
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

function createApp(config: Config, uws: UWS): TemplatedApp {
  const tls = config.listeners.proxy.tls;
  if (tls === undefined) return uws.App();
  return uws.SSLApp({
    cert_file_name: tls.certFile,
    key_file_name: tls.keyFile,
    ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase.reveal() }),
  });
}

/**
 * Builds one thread's request path and its uWS apps. Reads the upstream TLS files; throws on an
 * upstream address the loader should have refused (a bug).
 */
export function buildServingPipeline(config: Config, uws: UWS, parts: PipelineParts):
  ServingPipeline {
  // 1. Services, their pools, and what every listener's handler shares.
  const internalJwt = config.internalJwt === undefined ? undefined : new InternalJwtSigner(
    config.internalJwt.issuer, config.internalJwt.signingKey.reveal(), config.internalJwt.ttlSec);
  const lifecycle = new Lifecycle();
  const { routes, groups } = buildServices(config);
  const options = {
    registry: new ServiceRegistry(routes),
    trusted: new TrustedProxies(config.routing.trustedProxies),
    limits: config.limits,
    slashes: config.routing.slashes,
    requestIdHeader: config.routing.requestIdHeader,
    lifecycle,
    authenticator: parts.authenticator,
    internalJwt,
    audit: parts.audit,
    revocations: parts.revocations,
    policy: parts.policy,
    forwardedCertProxies: new TrustedProxies(config.authn.forwardedClientCert.trustedProxies),
    forwardedCerts: new ForwardedCertificates(),
  } as const;

  // 2. The proxy listener's app. Browser login runs there only: the mTLS listener's callers
  // are services.
  const app = createApp(config, uws);
  app.any('/*', uwsHandler(createProxyHandler({
    ...options, proto: config.listeners.proxy.tls === undefined ? 'http' : 'https',
    login: parts.login,
  }), 'proxy', config.routing.requestIdHeader));

  // 3. The decision listener: ingresses ask, nothing is forwarded. No browser login there: a
  // session cookie in a check is no credential, since the ingress would pass it on to the
  // service (nothing strips it) and cannot follow a redirect to log in (server/README.md).
  const decision = config.listeners.decision;
  const decisionApp = decision === undefined ? undefined : uws.App();
  decisionApp?.any('/*', uwsHandler(createDecisionHandler({
    ...options, login: undefined,
    ingress: new TrustedProxies(decision?.trustedIngress ?? []),
    flavor: decision?.flavor ?? 'nginx', pathPrefix: decision?.pathPrefix,
  }), 'decision', config.routing.requestIdHeader));
  return { options, lifecycle, app, decisionApp, groups };
}
