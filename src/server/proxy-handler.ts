/**
 * The request path, stage by stage: copy -> framing -> canonical target -> route -> access ->
 * forward. This file reads as the design's request path; each stage lives in its own folder.
 *
 * uWebSockets.js hands over `req` for the synchronous part of the handler only. Everything needed
 * later is copied first, and `onAborted` is attached before anything can go asynchronous.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { ErrorCode } from '../errors/index.js';
import {
  canonicalizeTarget, checkRequestHeaders, type HeaderLimits, type ServiceRegistry,
} from '../routing/index.js';
import {
  buildUpstreamHeaders, ResponseRelay, type TrustedProxies, type UpstreamGroup,
  type BodyFraming,
} from '../upstream/index.js';
import { writeErrorResponse } from './error-response.js';
import type { Lifecycle } from './lifecycle.js';
import { RequestBodyPump } from './request-body.js';
import { settleRequestId } from './request-id.js';

/** A registered service as the request path sees it. */
export interface ServiceRuntime {
  readonly name: string;
  /** 'authenticated' routes answer 401 until the authentication stage lands (fail closed). */
  readonly access: 'public' | 'authenticated';
  readonly maxBodyBytes: number;
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
}

/** The peer address uWS hands over as ASCII bytes, as a string (cheaper than a TextDecoder). */
function addressText(ab: ArrayBuffer): string {
  return String.fromCharCode.apply(null, new Uint8Array(ab) as unknown as number[]);
}
const kAuthnChallenge = ['www-authenticate', 'Bearer'];
/**
 * Methods never forwarded: CONNECT would turn the proxy into a tunnel, and TRACE echoes the
 * request headers (credentials included) back to the caller.
 */
const kRefusedMethods: ReadonlySet<string> = new Set(['CONNECT', 'TRACE']);
/** Framing errors after which the end of this request, and so the start of the next, is unknown. */
const kBoundaryInDoubt: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'IAM_FRAMING_CONTENT_LENGTH_CONFLICT', 'IAM_FRAMING_AMBIGUOUS',
  'IAM_FRAMING_TRANSFER_ENCODING_UNSUPPORTED', 'IAM_FRAMING_HEADER_INVALID',
]);

/** Returns the uWS handler for the proxy listener's catch-all route. */
export function createProxyHandler(opts: ProxyHandlerOptions):
  (res: HttpResponse, req: HttpRequest) => void {
  const { registry, trusted, limits, lifecycle, requestIdHeader } = opts;
  const targetOptions = { slashes: opts.slashes, maxUrlBytes: limits.maxUrlBytes };

  return (res, req) => {
    // Step 1: copy what the request carries; `req` is dead after this function returns.
    const method = req.getMethod().toUpperCase();
    const query = req.getQuery();
    const rawTarget = query === undefined || query === '' ? req.getUrl()
      : `${req.getUrl()}?${query}`;
    const headers: string[] = [];
    let inboundId: string | undefined;
    req.forEach((name, value) => {
      headers.push(name, value);
      if (name === requestIdHeader) inboundId = value;
    });
    const remoteAddress = addressText(res.getRemoteAddressAsText());
    const requestId = settleRequestId(inboundId);

    let isAborted = false;
    let abortHook: (() => void) | undefined;
    res.onAborted(() => {
      isAborted = true;
      abortHook?.();
    });

    // A request whose framing is in doubt, or whose body was not read, closes its connection.
    const reject = (code: ErrorCode, close = true, extra?: readonly string[]): void => {
      writeErrorResponse(res, code, requestId, close, extra, requestIdHeader);
    };
    if (lifecycle.isDraining) return reject('IAM_SERVER_DRAINING');

    // Step 2: framing and header limits (what the uWS parser lets through). When the message
    // boundary itself is in doubt the connection is dropped without an answer, as uWS does for
    // CL+TE: uWS 20.30 keeps parsing requests pipelined behind one we answer, so answering would
    // let bytes we do not trust become the next request.
    const framing = checkRequestHeaders(headers, limits);
    if (!framing.ok) {
      if (kBoundaryInDoubt.has(framing.code)) return void res.close();
      return reject(framing.code);
    }
    const { host, contentLength, chunked } = framing.value;
    const hasBody = chunked || contentLength > 0;

    // Step 3: the one canonical path that routing, policy and the upstream all see.
    const hostText = host.port === undefined ? host.host : `${host.host}:${host.port}`;
    const target = canonicalizeTarget(rawTarget, hostText, targetOptions);
    if (!target.ok) return reject(target.code);
    if (framing.value.upgrade !== undefined) return reject('IAM_REQUEST_UPGRADE_UNSUPPORTED');
    if (kRefusedMethods.has(method)) return reject('IAM_ROUTING_METHOD_UNSUPPORTED');

    // Step 4: route by host and longest path prefix.
    const match = registry.match(host.host, target.value.path);
    if (match === undefined) return reject('IAM_ROUTING_NO_ROUTE', hasBody);
    const service = match.service;

    // Step 5: access. Until authentication lands, a protected route can only say no.
    if (service.access !== 'public') return reject('IAM_AUTHN_REQUIRED', hasBody, kAuthnChallenge);
    if (contentLength > service.maxBodyBytes) return reject('IAM_REQUEST_BODY_TOO_LARGE');

    // Step 6: forward, streaming the body both ways.
    lifecycle.begin();
    let isFinished = false;
    let pump: RequestBodyPump | undefined;
    const relay = new ResponseRelay({
      res,
      requestId,
      requestIdHeader,
      isHead: method === 'HEAD',
      isAborted: () => isAborted,
      isRequestBodyComplete: () => pump === undefined || pump.isComplete,
      finish: () => {
        if (isFinished) return;
        isFinished = true;
        pump?.abandon();
        lifecycle.end();
      },
    });
    const body: BodyFraming = chunked ? { kind: 'chunked' }
      : contentLength > 0 ? { kind: 'length', length: contentLength } : { kind: 'none' };
    const upstreamTarget = target.value.query === ''
      ? match.upstreamPath : `${match.upstreamPath}?${target.value.query}`;
    if (hasBody) {
      pump = new RequestBodyPump(res, service.maxBodyBytes, () => {
        exchange.abort();
        relay.onError('IAM_REQUEST_BODY_TOO_LARGE');
      });
    }
    const exchange = service.upstream.request({
      method,
      target: upstreamTarget,
      headers: buildUpstreamHeaders({
        headers, host: hostText, remoteAddress, proto: opts.proto, requestId, requestIdHeader,
      }, trusted),
      body,
    }, relay);
    relay.bind(exchange);
    pump?.bind(exchange);
    abortHook = () => {
      exchange.abort();
      relay.onError('IAM_REQUEST_CLIENT_ABORTED');
    };
  };
}
