/**
 * Writing browser-login answers (src/login/) on a front-end response: the 302s (to the IdP,
 * back to the application, after logout) and the refusals, each with its Set-Cookie headers,
 * and the request's one audit record. Every such answer is `Cache-Control: no-store` and
 * `Referrer-Policy: no-referrer` (the callback URL holds a code until the browser leaves it).
 */
import type { AuditLog, AuditRecord } from '../audit/index.js';
import type { BrowserLogin, LoginAnswer, LoginRedirect, LoginRequest } from '../login/index.js';
import { writeErrorResponse } from './error-response.js';
import type { FrontResponse } from './front-end.js';
import type { Lifecycle } from './lifecycle.js';

const kNoStore = ['cache-control', 'no-store', 'referrer-policy', 'no-referrer'];

function cookieHeaders(cookies: readonly string[]): string[] {
  const out: string[] = [];
  for (const cookie of cookies) out.push('set-cookie', cookie);
  return out;
}

/**
 * Writes `answer` inside one cork and fills `record` (principal, decision, code, status).
 * `close` asks for the connection to close after it (a request body was left unread). The
 * caller guarantees `res` is still valid.
 */
export function writeLoginAnswer(res: FrontResponse, answer: LoginAnswer, record: AuditRecord,
  requestId: string, requestIdHeader: string, close: boolean): void {
  if (answer.principal !== undefined) record.principal = answer.principal;
  if (answer.kind === 'refuse') {
    writeErrorResponse(res, answer.code, requestId, close,
      [...kNoStore.slice(2), ...cookieHeaders(answer.cookies)], requestIdHeader);
    record.refuse(answer.code);
    return;
  }
  writeRedirect(res, answer, requestId, requestIdHeader, close);
  record.redirect(answer.decision, answer.code);
}

function writeRedirect(res: FrontResponse, answer: LoginRedirect, requestId: string,
  requestIdHeader: string, close: boolean): void {
  const headers = ['location', answer.location, ...kNoStore, ...cookieHeaders(answer.cookies)];
  res.cork(() => {
    res.writeHead(302, headers, requestIdHeader, requestId);
    res.end('', close);
  });
}

/** What serving one login endpoint needs from the request path. */
export interface LoginEndpointExchange {
  readonly login: BrowserLogin;
  readonly request: LoginRequest;
  readonly res: FrontResponse;
  readonly record: AuditRecord;
  readonly requestId: string;
  readonly requestIdHeader: string;
  readonly lifecycle: Lifecycle;
  readonly audit: AuditLog;
  /** The request announced a body: it is not read, so the connection closes after the answer. */
  readonly hasBody: boolean;
  /** Whether the client has gone; the handler's `onAborted` sets it. */
  isAborted(): boolean;
  /** Installs what the handler's `onAborted` runs. */
  onAbort(hook: () => void): void;
}

/**
 * Serves a reserved login endpoint as an admitted request: counted in flight until it ends,
 * answered at most once, one audit record emitted whether it was answered or the client left.
 */
export function serveLoginEndpoint(x: LoginEndpointExchange): void {
  x.lifecycle.begin();
  let isDone = false;
  const end = (): void => {
    x.lifecycle.end();
    x.audit.emit(x.record);
  };
  x.onAbort(() => {
    if (isDone) return;
    isDone = true;
    x.record.refuse('IAM_REQUEST_CLIENT_ABORTED', 'aborted');
    end();
  });
  const answer = (out: LoginAnswer): void => {
    if (isDone) return;
    isDone = true;
    if (x.isAborted()) x.record.refuse('IAM_REQUEST_CLIENT_ABORTED', 'aborted');
    else writeLoginAnswer(x.res, out, x.record, x.requestId, x.requestIdHeader, x.hasBody);
    end();
  };

  let out: LoginAnswer | Promise<LoginAnswer>;
  try {
    out = x.login.serve(x.request);
  } catch {
    out = { kind: 'refuse', code: 'IAM_SERVER_INTERNAL', cookies: [], principal: undefined };
  }
  if (!(out instanceof Promise)) return answer(out);
  out.then(answer, () => answer({ kind: 'refuse', code: 'IAM_SERVER_INTERNAL', cookies: [],
    principal: undefined }));
}
