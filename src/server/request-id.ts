/**
 * Request ids: an inbound `X-Request-Id` is propagated when it is a short token, otherwise the
 * proxy generates one. The id goes to the upstream, back to the client, and into the audit record.
 */
import { randomUUID } from 'node:crypto';

const kMaxInboundIdLength = 128;

/**
 * Whether an inbound id is safe to propagate: 1-128 characters from [A-Za-z0-9._:-].
 * Anything else (spaces, quotes, separators) is replaced, so an id can be logged and echoed
 * without escaping.
 */
export function isAcceptableRequestId(value: string): boolean {
  if (value.length === 0 || value.length > kMaxInboundIdLength) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
      || c === 0x2d || c === 0x2e || c === 0x5f;
    if (!ok) return false;
  }
  return true;
}

/**
 * The request id for a request: the inbound value when acceptable, a fresh UUIDv4 otherwise.
 * `inbound` is the raw header value, or undefined when the header is absent.
 */
export function settleRequestId(inbound: string | undefined): string {
  return inbound !== undefined && isAcceptableRequestId(inbound) ? inbound : randomUUID();
}
