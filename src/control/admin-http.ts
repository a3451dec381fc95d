/**
 * Small HTTP helpers of the admin listener: JSON answers, the bearer-token check, and reading a
 * bounded request body. Every write here happens inside a cork.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpResponse } from 'uWebSockets.js';
import { statusLine } from '../server/status-line.js';

/** Writes `value` as a JSON answer with `status`; never cached. */
export function sendJSON(res: HttpResponse, status: number, value: unknown): void {
  res.cork(() => {
    res.writeStatus(statusLine(status));
    res.writeHeader('content-type', 'application/json');
    res.writeHeader('cache-control', 'no-store');
    res.end(`${JSON.stringify(value)}\n`);
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time check of `Authorization: Bearer <token>` against the configured token. */
export function isAuthorized(header: string, token: string | undefined): boolean {
  if (token === undefined || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice(7)), digest(token));
}

/**
 * Checks the admin token on a protected endpoint and, when it fails, answers: 403 when no
 * token is configured (the admin API is closed by default), 401 with a challenge otherwise.
 * Returns whether the caller may go on. `authorization` must be copied from the request first.
 */
export function admitAdmin(res: HttpResponse, authorization: string,
  token: string | undefined): boolean {
  if (token === undefined) {
    sendJSON(res, 403, { error: 'admin_token_not_configured' });
    return false;
  }
  if (isAuthorized(authorization, token)) return true;
  res.cork(() => {
    res.writeStatus(statusLine(401));
    res.writeHeader('www-authenticate', 'Bearer realm="portcullis-admin"');
    res.writeHeader('content-type', 'application/json');
    res.end('{"error":"unauthorized"}\n');
  });
  return false;
}

/** Whether the client of a request has gone; set by `readBody`'s abort handler. */
export interface AbortState {
  isAborted: boolean;
}

/**
 * Reads the request body, at most `maxBytes`. Resolves undefined when the client aborts or the
 * body is too large (then a 413 has been sent). Attach it inside the handler, before any await.
 * It owns the response's abort handler: `state.isAborted` tells, later, whether the client
 * left (check it before answering after any further await).
 */
export function readBody(res: HttpResponse, maxBytes: number,
  state: AbortState = { isAborted: false }): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let isDone = false;
    res.onAborted(() => {
      state.isAborted = true;
      isDone = true;
      resolve(undefined);
    });
    res.onData((chunk, isLast) => {
      if (isDone) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        isDone = true;
        sendJSON(res, 413, { error: 'body_too_large' });
        resolve(undefined);
        return;
      }
      // `chunk` is only valid during this call: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) {
        isDone = true;
        resolve(Buffer.concat(chunks));
      }
    });
  });
}
