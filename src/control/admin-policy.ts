/**
 * `PUT /policy/bundle` on the admin listener (when `policy.allowPush` is on, with the admin
 * token): the body is a bundle, `X-Portcullis-Signature` its detached JWS. It is verified and
 * activated like a bundle from any other source: 200 `activated` or `unchanged`, 409 not newer
 * than the active bundle, 400 any other refusal, 413 larger than the bundle limit.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { ActivationResult } from './bundle-activator.js';
import { kMaxBundleBytes } from './bundle-source-file.js';
import { admitAdmin, readBody, sendJSON } from './admin-http.js';

/** Registers the push route; `push` undefined answers 404 (pushing is off). */
export function registerPolicyRoutes(app: TemplatedApp,
  push: ((bytes: Uint8Array, signature: string | undefined) => Promise<ActivationResult>) | undefined,
  adminToken: () => string | undefined): void {
  app.put('/policy/bundle', (res, req) => {
    if (push === undefined) return sendJSON(res, 404, { error: 'policy_push_disabled' });
    const signature = req.getHeader('x-portcullis-signature');
    if (!admitAdmin(res, req.getHeader('authorization'), adminToken())) return;
    // The client may go away while the bundle is verified: uWS then refuses writes.
    const answer = (status: number, value: unknown): void => {
      try {
        sendJSON(res, status, value);
      } catch {
        // Aborted: nobody to answer.
      }
    };
    void readBody(res, kMaxBundleBytes).then(async (body) => {
      if (body === undefined) return;
      const r = await push(body, signature === '' ? undefined : signature);
      if (r.ok) answer(200, { status: r.kind, version: r.version, digest: r.digest });
      else answer(r.code === 'IAM_BUNDLE_VERSION_OLDER' ? 409 : 400, { error: r.code });
    }).catch(() => answer(500, { error: 'IAM_SERVER_INTERNAL' }));
  });
}
