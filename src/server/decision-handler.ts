/**
 * The decision listener's request path: an ingress (nginx `auth_request`, Traefik
 * `forwardAuth`, Envoy `ext_authz` HTTP) asks whether a request it holds may pass, and the
 * answer is allow (200 with the headers to pass upstream) or deny (401/403 as on the proxy),
 * never a forwarded request. Stage by stage: copy -> trusted ingress -> framing -> the original
 * request -> canonical target -> route -> authenticate -> authorize (access-decision.ts, the
 * proxy's own steps) -> answer. One audit record per check, with listener `decision`.
 *
 * The original request's method, URI, host and client address come from headers the ingress
 * writes (decision-original.ts), so they are read only from peers in `trustedIngress`; any
 * other peer is refused before anything is decided. See README.md, "The decision listener".
 */
import type { AuditLog } from '../audit/index.js';
import type { ForwardedCertificates, Principal } from '../authn/index.js';
import { type ErrorCode, errorSpec } from '../errors/index.js';
import {
  canonicalizeTarget, checkRequestHeaders, type HeaderLimits, type ServiceRegistry,
} from '../routing/index.js';
import type { InternalJwtSigner, TrustedProxies } from '../upstream/index.js';
import {
  type AccessDeps, callerHeaders, certifiedCaller, decideAccess, kRefusedMethods,
} from './access-decision.js';
import { readOriginalRequest, type OriginalOptions } from './decision-original.js';
import {
  challengeFor, errorBody, kBoundaryInDoubt, writeErrorResponse,
} from './error-response.js';
import type { FrontHandler, FrontResponse } from './front-end.js';
import type { Lifecycle } from './lifecycle.js';
import type { ServiceRuntime } from './proxy-handler.js';
import { settleRequestId } from './request-id.js';

/** Everything the decision handler needs; built once at start-up. */
export interface DecisionHandlerOptions extends AccessDeps, OriginalOptions {
  readonly registry: ServiceRegistry<ServiceRuntime>;
  /** Peers whose checks are answered (`listeners.decision.trustedIngress`). */
  readonly ingress: TrustedProxies;
  readonly limits: HeaderLimits & { readonly maxUrlBytes: number };
  readonly slashes: 'merge' | 'reject';
  readonly requestIdHeader: string;
  readonly lifecycle: Lifecycle;
  readonly audit: AuditLog;
  readonly internalJwt: InternalJwtSigner | undefined;
  readonly forwardedCertProxies: TrustedProxies;
  readonly forwardedCerts: ForwardedCertificates;
}

/** The allow header naming the canonical path that was decided (the proxy's reserved names). */
const kPathHeader = 'x-portcullis-path';

/**
 * Writes a refusal, without a body when the check itself was a HEAD (nginx sends the
 * original's method on its subrequest; a body after a HEAD answer would be read as the next
 * response on a kept-alive connection).
 */
function answerRefusal(res: FrontResponse, code: ErrorCode, requestId: string, isHead: boolean,
  close: boolean, requestIdHeader: string): void {
  const extra = challengeFor(code);
  if (!isHead) return writeErrorResponse(res, code, requestId, close, extra, requestIdHeader);
  const headers = ['cache-control', 'no-store', 'x-portcullis-error', code, ...(extra ?? [])];
  res.cork(() => {
    res.writeHead(errorSpec(code).status, headers, requestIdHeader, requestId);
    res.endWithoutBody(errorBody(code, requestId).length, close);
  });
}

/** Returns the decision listener's request path. */
export function createDecisionHandler(opts: DecisionHandlerOptions): FrontHandler {
  const { registry, ingress, limits, lifecycle, requestIdHeader, audit, internalJwt } = opts;
  const { forwardedCertProxies, forwardedCerts } = opts;
  const targetOptions = { slashes: opts.slashes, maxUrlBytes: limits.maxUrlBytes };

  return (request, res) => {
    if (lifecycle.isClosed) return void res.close();

    // Step 1: the check as the listener copied it; the original it describes, read only when
    // a trusted ingress sent it, names the record's method and source address.
    const { headers, remoteAddress } = request;
    const requestId = settleRequestId(request.inboundRequestId);
    const isTrusted = ingress.has(remoteAddress);
    const framing = checkRequestHeaders(headers, limits);
    const original = isTrusted && framing.ok ? readOriginalRequest({
      method: request.method, target: request.target, headers, host: framing.value.host,
    }, opts) : undefined;
    const described = original?.ok === true ? original.value : undefined;
    const record = audit.open('decision', requestId, described?.sourceAddress ?? remoteAddress,
      described?.method ?? request.method);
    const isHead = request.method === 'HEAD';

    let isAborted = false;
    let abortHook: (() => void) | undefined;
    res.onAborted(() => {
      isAborted = true;
      abortHook?.();
    });
    const reject = (code: ErrorCode, close = false): void => {
      answerRefusal(res, code, requestId, isHead, close, requestIdHeader);
      record.refuse(code);
      audit.emit(record);
    };
    if (lifecycle.isDraining) return reject('IAM_SERVER_DRAINING', true);
    if (audit.isShedding(lifecycle.inFlight)) {
      audit.noteShed();
      return reject('IAM_AUDIT_OVERLOADED', true);
    }

    // Step 2: only a trusted ingress may ask; nothing is decided for anyone else.
    if (!isTrusted) return reject('IAM_DECISION_PEER_UNTRUSTED', true);

    // Step 3: the check's own framing and limits; a check carries no body.
    if (!framing.ok) {
      if (!kBoundaryInDoubt.has(framing.code)) return reject(framing.code, true);
      record.refuse(framing.code, 'dropped');
      audit.emit(record);
      return void res.close();
    }
    if (framing.value.chunked || framing.value.contentLength > 0) {
      return reject('IAM_DECISION_BODY_UNSUPPORTED', true);
    }

    // Step 4: the original request (a client certificate an Envoy in front describes, as on the
    // proxy), its one canonical target, its route.
    if (described === undefined) {
      return reject(original?.ok === false ? original.code : 'IAM_SERVER_INTERNAL');
    }
    const certified = certifiedCaller(request.peer, remoteAddress, headers, forwardedCertProxies,
      forwardedCerts);
    if (typeof certified === 'string') return reject(certified);
    record.host = described.host.host;
    const target = canonicalizeTarget(described.target, described.hostText, targetOptions);
    if (!target.ok) return reject(target.code);
    record.path = target.value.path;
    if (kRefusedMethods.has(described.method)) return reject('IAM_ROUTING_METHOD_UNSUPPORTED');
    const match = registry.match(described.host.host, target.value.path);
    if (match === undefined) return reject('IAM_ROUTING_NO_ROUTE');
    const service = match.service;
    record.service = service.name;

    // Step 5: decide, as the proxy does; from here the check counts as in flight.
    lifecycle.begin();
    let isFinished = false;
    const end = (): void => {
      if (isFinished) return;
      isFinished = true;
      lifecycle.end();
      audit.emit(record);
    };
    abortHook = () => {
      record.refuse('IAM_REQUEST_CLIENT_ABORTED', 'aborted');
      end();
    };
    const refuse = (code: ErrorCode): void => {
      if (isFinished) return;
      record.refuse(code, isAborted ? 'aborted' : 'refused');
      if (!isAborted) answerRefusal(res, code, requestId, isHead, false, requestIdHeader);
      end();
    };
    // Step 6: allow: 200 and the headers the ingress copies upstream, no body.
    const allow = (principal: Principal | undefined, obligations: readonly string[]): void => {
      if (isFinished || isAborted) return;
      const identity = callerHeaders(service, principal, obligations, internalJwt, requestId);
      if (identity === null) return refuse('IAM_AUTHN_CLAIM_INVALID');
      record.answer(200);
      // The path that was decided, for an ingress that forwards it rather than its own form
      // (nginx: proxy_pass http://app$portcullis_path$is_args$args): one canonical path.
      const answer = ['cache-control', 'no-store', kPathHeader, match.upstreamPath];
      if (identity !== undefined) answer.push(...identity);
      res.cork(() => {
        res.writeHead(200, answer, requestIdHeader, requestId);
        if (isHead) res.endWithoutBody(0, false);
        else res.end('', false);
      });
      end();
    };
    decideAccess(opts, {
      service, method: described.method, path: match.upstreamPath, headers,
      sourceAddress: described.sourceAddress, certified, record, allow, refuse,
      isLive: () => !isFinished && !isAborted,
    });
  };
}
