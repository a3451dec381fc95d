/**
 * Error answers written by the proxy itself (4xx/5xx with a stable code).
 *
 * The body is a small JSON object with the code, a fixed sentence from the registry and the
 * request id; no request data and no library text ever reaches it. The code is also sent as the
 * `X-Portcullis-Error` header so that clients and tests can branch on it without parsing.
 */
import { type ErrorCode, errorSpec } from '../errors/index.js';
import type { FrontResponse } from './front-end.js';

const kBodyPrefix = new Map<ErrorCode, string>();

function bodyPrefix(code: ErrorCode): string {
  let prefix = kBodyPrefix.get(code);
  if (prefix === undefined) {
    const spec = errorSpec(code);
    prefix = `{"error":"${code}","reason":"${spec.reason}","message":${JSON.stringify(spec.message)}`;
    kBodyPrefix.set(code, prefix);
  }
  return prefix;
}

/** The JSON body of an error answer (one line). `requestId` must already be a safe token. */
export function errorBody(code: ErrorCode, requestId: string): string {
  return `${bodyPrefix(code)},"requestId":"${requestId}"}\n`;
}

/** Extra response headers for an error answer, as a flat [name, value, ...] list. */
export type ExtraHeaders = readonly string[];

/**
 * Writes a complete error response inside one cork. `requestId` must already be a safe token
 * (see request-id.ts), sent under `requestIdHeader`. `close` asks for the connection to close
 * after the answer: required when the request announced a body that was not read, or when
 * framing is in doubt. The caller guarantees `res` is still valid (not aborted, not yet answered).
 */
export function writeErrorResponse(res: FrontResponse, code: ErrorCode, requestId: string,
  close: boolean, extra?: ExtraHeaders, requestIdHeader = 'x-request-id'): void {
  const body = errorBody(code, requestId);
  const headers = ['content-type', 'application/json', 'cache-control', 'no-store',
    'x-portcullis-error', code];
  if (extra !== undefined) {
    for (let i = 0; i + 1 < extra.length; i += 2) headers.push(extra[i]!, extra[i + 1]!);
  }
  res.cork(() => {
    res.writeHead(errorSpec(code).status, headers, requestIdHeader, requestId);
    res.end(body, close);
  });
}

/** RFC 6750 section 3: the route needs a bearer token and none was presented. */
export const kAuthnChallenge: readonly string[] = ['www-authenticate', 'Bearer'];
/** RFC 6750 section 3.1: a token was presented and refused. */
export const kInvalidTokenChallenge: readonly string[] =
  ['www-authenticate', 'Bearer error="invalid_token"'];

/** The challenge a refusal with `code` carries: 401s ask for a (valid) bearer token. */
export function challengeFor(code: ErrorCode): readonly string[] | undefined {
  return code === 'IAM_AUTHN_REQUIRED' ? kAuthnChallenge
    : errorSpec(code).status === 401 ? kInvalidTokenChallenge : undefined;
}

/** Framing errors after which the end of this request, and so the start of the next, is unknown. */
export const kBoundaryInDoubt: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'IAM_FRAMING_CONTENT_LENGTH_CONFLICT', 'IAM_FRAMING_AMBIGUOUS',
  'IAM_FRAMING_TRANSFER_ENCODING_UNSUPPORTED', 'IAM_FRAMING_HEADER_INVALID',
]);
