/**
 * The request path, stage by stage: copy -> framing -> canonical target -> route ->
 * authenticate -> authorize (the policy decides every request) -> forward. This file reads as the
 * design's request path; each stage lives in its own folder.
 * One audit record per request is filled in along the way and emitted exactly once, when the
 * request ends, whatever the outcome (src/audit/).
 *
 * Both listeners call it (front-end.ts): the listener has already copied the request head, and
 * `onAborted` and `onData` are attached before anything can go asynchronous.
 */
import type { AuditLog, RevocationSet } from '../audit/index.js';
import type { Authenticator, ForwardedCertificates, Principal } from '../authn/index.js';
import type { PolicyHolder } from '../authz/index.js';
import type { ErrorCode } from '../errors/index.js';
import type { BrowserLogin } from '../login/index.js';
import {
  canonicalizeTarget, checkRequestHeaders, type HeaderLimits, type ServiceRegistry,
} from '../routing/index.js';
import {
  buildUpstreamHeaders, ResponseRelay, type TrustedProxies, type UpstreamGroup,
  type BodyFraming, type UpstreamExchange, type IdentityHeaderPlan, type InternalJwtSigner,
} from '../upstream/index.js';
import { callerHeaders, certifiedCaller, decideAccess, kRefusedMethods } from './access-decision.js';
import {
  challengeFor, kAuthnChallenge, kBoundaryInDoubt, writeErrorResponse,
} from './error-response.js';
import type { FrontHandler } from './front-end.js';
import type { Lifecycle } from './lifecycle.js';
import { serveLoginEndpoint, writeLoginAnswer } from './login-exchange.js';
import { RequestBodyPump } from './request-body.js';
import { settleRequestId } from './request-id.js';

/** A registered service as the request path sees it. */
export interface ServiceRuntime {
  readonly name: string;
  /**
   * Without a policy block: 'public' routes skip authentication, 'authenticated' ones need a
   * verified credential. Undefined with a policy block: a request with a credential is
   * authenticated, one without is anonymous, and the policy decides either way.
   */
  readonly access: 'public' | 'authenticated' | undefined;
  readonly maxBodyBytes: number;
  /** Browser login mode: a session cookie is a credential, a navigation may go to log in. */
  readonly login: boolean;
  /** What an authenticated route passes on about the caller (see config `identity`). */
  readonly identity: {
    readonly headers: boolean;
    readonly forwardToken: boolean;
    readonly internalJwt: boolean;
    /** Header names and fields sent when `headers` is on; its `ownedNames` are always removed. */
    readonly plan: IdentityHeaderPlan;
  };
  readonly upstream: UpstreamGroup;
}

/** Everything the handler needs; built once at start-up. */
export interface ProxyHandlerOptions {
  readonly registry: ServiceRegistry<ServiceRuntime>;
  readonly trusted: TrustedProxies;
  readonly limits: HeaderLimits & { readonly maxUrlBytes: number };
  readonly slashes: 'merge' | 'reject';
  readonly proto: 'http' | 'https';
  /** Lower-case name of the request-id header, propagated when acceptable. */
  readonly requestIdHeader: string;
  readonly lifecycle: Lifecycle;
  /** Verifies bearer tokens; undefined when no issuer is configured (protected routes: 401). */
  readonly authenticator: Authenticator | undefined;
  /** Signs internal JWTs for services that ask for one; undefined when not configured. */
  readonly internalJwt: InternalJwtSigner | undefined;
  /** Where every request's record goes. */
  readonly audit: AuditLog;
  /** Revoked subjects, sessions, tokens and clients: checked after authentication (no I/O). */
  readonly revocations: RevocationSet;
  /** The active policy bundle: decides every routed request (src/authz/). */
  readonly policy: PolicyHolder;
  /** Front proxies whose X-Forwarded-Client-Cert is believed (`authn.forwardedClientCert`). */
  readonly forwardedCertProxies: TrustedProxies;
  /** Reads that header into a principal. */
  readonly forwardedCerts: ForwardedCertificates;
  /** Browser login (src/login/): its reserved endpoints and sessions; undefined when off. */
  readonly login?: BrowserLogin | undefined;
}

/** Returns the request path for one listener (`proto` is that listener's scheme). */
export function createProxyHandler(opts: ProxyHandlerOptions): FrontHandler {
  const { registry, trusted, limits, lifecycle, requestIdHeader, authenticator } = opts;
  const { internalJwt, audit, policy, forwardedCertProxies, forwardedCerts } = opts;
  const { login } = opts;
  const targetOptions = { slashes: opts.slashes, maxUrlBytes: limits.maxUrlBytes };

  return (request, res) => {
    // After the final audit flush nothing is served, not even a 503 that could not be recorded.
    if (lifecycle.isClosed) return void res.close();

    // Step 1: the request head, as the listener copied it.
    const { method, headers, remoteAddress } = request;
    const requestId = settleRequestId(request.inboundRequestId);
    const record = audit.open(request.listener, requestId, remoteAddress, method);

    let isAborted = false;
    let abortHook: (() => void) | undefined;
    res.onAborted(() => {
      isAborted = true;
      abortHook?.();
    });

    // A request whose framing is in doubt, or whose body was not read, closes its connection.
    const reject = (code: ErrorCode, close = true, extra?: readonly string[]): void => {
      writeErrorResponse(res, code, requestId, close, extra, requestIdHeader);
      record.refuse(code);
      audit.emit(record);
    };
    if (lifecycle.isDraining) return reject('IAM_SERVER_DRAINING');
    // The audit queue is full (`audit.queue.overload: shed`): serve nothing it cannot record.
    if (audit.isShedding(lifecycle.inFlight)) {
      audit.noteShed();
      return reject('IAM_AUDIT_OVERLOADED');
    }

    // Step 2: framing and header limits (what the listener's parser lets through). When the
    // message boundary itself is in doubt the connection is dropped without an answer, as uWS
    // does for CL+TE: uWS 20.30 keeps parsing requests pipelined behind one we answer, so
    // answering would let bytes we do not trust become the next request.
    const framing = checkRequestHeaders(headers, limits);
    if (!framing.ok) {
      if (!kBoundaryInDoubt.has(framing.code)) return reject(framing.code);
      record.refuse(framing.code, 'dropped');
      audit.emit(record);
      return void res.close();
    }
    const { host, contentLength, chunked } = framing.value;
    record.host = host.host;
    const hasBody = chunked || contentLength > 0;

    // Step 2': an mTLS connection whose certificate cannot be used (a name unsafe to pass on, or
    // it expired while the connection stayed open) refuses every request on it. A trusted front
    // proxy's X-Forwarded-Client-Cert names the caller whose certificate it checked; from anyone
    // else it is ignored here and, as an x-forwarded- header, never forwarded.
    const certified = certifiedCaller(request.peer, remoteAddress, headers, forwardedCertProxies,
      forwardedCerts);
    if (typeof certified === 'string') return reject(certified);

    // Step 3: the one canonical path that routing, policy and the upstream all see.
    const hostText = host.port === undefined ? host.host : `${host.host}:${host.port}`;
    const target = canonicalizeTarget(request.target, hostText, targetOptions);
    if (!target.ok) return reject(target.code);
    record.path = target.value.path;
    if (framing.value.upgrade !== undefined) return reject('IAM_REQUEST_UPGRADE_UNSUPPORTED');
    if (kRefusedMethods.has(method)) return reject('IAM_ROUTING_METHOD_UNSUPPORTED');

    // Step 3b: the login endpoints are the proxy's own, on every host, and never routed.
    if (login !== undefined && login.ownsPath(target.value.path)) {
      return serveLoginEndpoint({ login, res, record, requestId, requestIdHeader, lifecycle,
        audit, hasBody, isAborted: () => isAborted, onAbort: (hook) => { abortHook = hook; },
        request: { method, path: target.value.path, query: target.value.query, headers, hostText,
          remoteAddress } });
    }

    // Step 4: route by host and longest path prefix.
    const match = registry.match(host.host, target.value.path);
    if (match === undefined) return reject('IAM_ROUTING_NO_ROUTE', hasBody);
    const service = match.service;
    record.service = service.name;

    // Step 5: admission. From here on the request counts as in flight until `end`.
    if (contentLength > service.maxBodyBytes) return reject('IAM_REQUEST_BODY_TOO_LARGE');
    if (service.access === 'authenticated' && authenticator === undefined &&
      certified === undefined) {
      return reject('IAM_AUTHN_REQUIRED', hasBody, kAuthnChallenge);
    }
    lifecycle.begin();
    let isFinished = false;
    let exchange: UpstreamExchange | undefined;
    let relay: ResponseRelay | undefined;
    // The one end of an admitted request: its record is emitted here, exactly once.
    const end = (): void => {
      if (isFinished) return;
      isFinished = true;
      pump?.abandon();
      lifecycle.end();
      audit.emit(record);
    };
    // The relay's end of a forwarded exchange: the status sent, or the code that ended it.
    const finish = (status: number, code: ErrorCode | undefined): void => {
      if (isFinished) return;
      record.endExchange(status, code ?? null, isAborted);
      end();
    };
    // A refusal after admission (authentication, body limit) when nothing was forwarded yet.
    const refuse = (code: ErrorCode): void => {
      if (isFinished) return;
      // Browser login: an anonymous top-level navigation is sent to log in instead of a 401.
      const toLogin = code === 'IAM_AUTHN_REQUIRED' && service.login && !isAborted
        ? login?.redirectToLogin({ method, headers, hostText, remoteAddress },
          target.value.query === '' ? target.value.path
            : `${target.value.path}?${target.value.query}`) : undefined;
      if (toLogin !== undefined) {
        writeLoginAnswer(res, toLogin, record, requestId, requestIdHeader,
          pump !== undefined && !pump.isComplete);
        return end();
      }
      record.refuse(code, isAborted ? 'aborted' : 'refused');
      if (!isAborted) {
        writeErrorResponse(res, code, requestId, pump !== undefined && !pump.isComplete,
          challengeFor(code), requestIdHeader);
      }
      end();
    };
    // The body pump must exist before anything asynchronous: uWS delivers body chunks only to
    // an onData attached inside this handler. Chunks wait in the pump until we forward.
    const pump = hasBody ? new RequestBodyPump(res, service.maxBodyBytes, () => {
      if (exchange === undefined || relay === undefined) {
        return refuse('IAM_REQUEST_BODY_TOO_LARGE');
      }
      exchange.abort();
      relay.onError('IAM_REQUEST_BODY_TOO_LARGE');
    }) : undefined;
    abortHook = () => {
      if (exchange === undefined || relay === undefined) {
        record.refuse('IAM_REQUEST_CLIENT_ABORTED', 'aborted');
        return end();
      }
      exchange.abort();
      relay.onError('IAM_REQUEST_CLIENT_ABORTED');
    };

    // Step 7 (run after step 6): forward, streaming the body both ways. `principal` is set on
    // authenticated routes: the token goes or stays per `identity`, and the principal rides
    // along as headers.
    const forward = (principal: Principal | undefined, obligations: readonly string[]): void => {
      record.decision = 'allow';
      const identity = callerHeaders(service, principal, obligations, internalJwt, requestId);
      if (identity === null) return refuse('IAM_AUTHN_CLAIM_INVALID');
      relay = new ResponseRelay({
        res,
        requestId,
        requestIdHeader,
        isHead: method === 'HEAD',
        isAborted: () => isAborted,
        isRequestBodyComplete: () => pump === undefined || pump.isComplete,
        finish,
      });
      const body: BodyFraming = chunked ? { kind: 'chunked' }
        : contentLength > 0 ? { kind: 'length', length: contentLength } : { kind: 'none' };
      const upstreamTarget = target.value.query === ''
        ? match.upstreamPath : `${match.upstreamPath}?${target.value.query}`;
      exchange = service.upstream.request({
        method,
        target: upstreamTarget,
        headers: buildUpstreamHeaders({
          headers: login === undefined ? headers : login.upstreamHeaders(headers),
          host: hostText, remoteAddress, proto: opts.proto, requestId, requestIdHeader,
          dropAuthorization: principal !== undefined && !service.identity.forwardToken, identity,
          ownedNames: service.identity.plan.ownedNames,
          policyOwnedNames: policy.engine?.obligationNames,
        }, trusted),
        body,
      }, relay);
      relay.bind(exchange);
      pump?.bind(exchange);
    };

    // Step 6: authenticate (a token, a client certificate or a browser session), check
    // revocations, authorize (access-decision.ts). A cache hit answers at once; a miss waits for
    // the verifier pool, and everything written after it is corked (writeErrorResponse, the
    // relay).
    decideAccess(opts, {
      service, method, path: match.upstreamPath, headers, sourceAddress: remoteAddress, certified,
      record, allow: forward, refuse, isLive: () => !isFinished && !isAborted,
    });
  };
}
