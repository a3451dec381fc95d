/**
 * The admin listener: its own uWS app on its own address, never reachable through the proxy.
 *
 * Open endpoints: `GET /healthz` (the process is up) and `GET /readyz` (listeners bound, not
 * draining; reports the evaluator ABI). Protected endpoints need `Authorization: Bearer <token>`
 * with the configured admin token; with no token configured they answer 403, so the admin API is
 * closed by default. Protected: `GET /config` (the effective configuration, secrets redacted),
 * and the audit endpoints of admin-audit.ts (metrics, sessions, revocations, live feed).
 * Also open: `GET /.well-known/jwks.json`, the public key of the internal-JWT signer.
 * Protected, when `policy.allowPush` is on: `PUT /policy/bundle` (admin-policy.ts).
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { statusLine } from '../server/status-line.js';
import { registerAuditRoutes, type AdminAudit } from './admin-audit.js';
import { admitAdmin, sendJSON } from './admin-http.js';
import { registerPolicyRoutes } from './admin-policy.js';

/** What the admin API reports and needs. */
export interface AdminState {
  /** Whether the proxy is ready to serve (listeners bound, not draining). */
  isReady(): boolean;
  /** Small JSON-able facts for /readyz (gathered from the serving threads when there are some). */
  readiness(): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The effective config as text, secrets already redacted. */
  describeConfig(): string;
  /** The admin bearer token, or undefined when none is configured. */
  adminToken(): string | undefined;
  /** Public keys of the internal-JWT signer, or undefined when internal JWTs are off. */
  jwks(): unknown;
  /** Audit, sessions, revocations, metrics, live feed and dashboard (admin-audit.ts). */
  readonly audit?: AdminAudit;
  /** Activates a pushed policy bundle (admin-policy.ts); undefined when pushing is off. */
  readonly pushBundle?: (bytes: Uint8Array, signature: string | undefined) =>
    Promise<import('./bundle-activator.js').ActivationResult>;
}

/** Registers the admin routes on `app`. */
export function registerAdminRoutes(app: TemplatedApp, state: AdminState): void {
  app.get('/healthz', (res) => sendJSON(res, 200, { status: 'ok' }));

  // Public keys only: services verify the proxy's internal JWTs with them.
  app.get('/.well-known/jwks.json', (res) => {
    const jwks = state.jwks();
    if (jwks === undefined) sendJSON(res, 404, { error: 'internal_jwt_not_configured' });
    else sendJSON(res, 200, jwks);
  });

  app.get('/readyz', (res) => {
    let isAborted = false;
    res.onAborted(() => { isAborted = true; });
    void Promise.resolve(state.readiness()).then((facts) => {
      const ready = state.isReady();
      const status = ready ? 'ready' : 'not_ready';
      if (!isAborted) sendJSON(res, ready ? 200 : 503, { status, ...facts });
    });
  });

  app.get('/config', (res, req) => {
    if (!admitAdmin(res, req.getHeader('authorization'), state.adminToken())) return;
    const text = state.describeConfig();
    res.cork(() => {
      res.writeStatus(statusLine(200));
      res.writeHeader('content-type', 'application/yaml');
      res.end(text);
    });
  });

  if (state.audit !== undefined) registerAuditRoutes(app, state.audit, () => state.adminToken());
  registerPolicyRoutes(app, state.pushBundle, () => state.adminToken());

  app.any('/*', (res) => sendJSON(res, 404, { error: 'not_found' }));
}
