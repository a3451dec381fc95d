/**
 * Identity headers: the verified principal, as the upstream of an authenticated route sees it.
 *
 * Names live in the proxy's own `x-portcullis-` namespace, which clients can never set (every
 * inbound spelling is removed by forward-headers.ts before anything runs). Values come from
 * token claims, so they are checked before they become header text: a claim holding CR, LF, NUL
 * or any other control character, or a character that is not a single byte, refuses the request
 * (threats.md, "Header injection from certificate / claim data").
 */
import type { Principal } from '../authn/index.js';

/** Header names, in the order they are sent. */
export const kIdentityHeaderNames = {
  credential: 'x-portcullis-credential',
  subject: 'x-portcullis-subject',
  issuer: 'x-portcullis-issuer',
  clientId: 'x-portcullis-client-id',
  scopes: 'x-portcullis-scopes',
} as const;

/** Longest value sent; longer claims are refused rather than cut (a cut id is another id). */
const kMaxValueLength = 1024;

function isSafeValue(value: string): boolean {
  if (value.length > kMaxValueLength) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * The identity headers of `principal` as a flat [name, value, ...] list (absent fields are
 * left out), or undefined when a claim value cannot be sent safely. The array is new and owned
 * by the caller.
 */
export function identityHeaders(principal: Principal): string[] | undefined {
  const out: string[] = [kIdentityHeaderNames.credential, principal.kind];
  const fields: ReadonlyArray<readonly [string, string | undefined]> = [
    [kIdentityHeaderNames.subject, principal.subject],
    [kIdentityHeaderNames.issuer, principal.issuer],
    [kIdentityHeaderNames.clientId, principal.clientId],
    [kIdentityHeaderNames.scopes, principal.scopes.length === 0 ? undefined
      : principal.scopes.join(' ')],
  ];
  for (const [name, value] of fields) {
    if (value === undefined) continue;
    if (!isSafeValue(value)) return undefined;
    out.push(name, value);
  }
  return out;
}
