/**
 * Internal JWTs: a short-lived token the proxy signs for one service and one request, so the
 * service can verify who the caller is without trusting headers or talking to the IdP.
 *
 * Claims: iss (the proxy), aud (the service name), sub / client_id / scope / principal_issuer /
 * credential (from the verified principal), request_id, iat, exp (now + ttlSec), jti (random).
 * Signed synchronously with node:crypto (ES256 as IEEE P1363, or EdDSA), one signature per
 * forwarded request. The public key is served as a JWKS on the admin listener; its `kid` is the
 * RFC 7638 thumbprint, so it changes only when the key does.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject }
  from 'node:crypto';
import type { Principal } from '../authn/index.js';

/** A public JWK as served in the JWKS. */
export type PublicJwk = Readonly<Record<string, string>>;

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** RFC 7638: the SHA-256 of the required members in lexicographic order. */
function thumbprint(jwk: Record<string, string>): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
    : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** Signs internal JWTs with one key. */
export class InternalJwtSigner {
  readonly #issuer: string;
  readonly #ttlSec: number;
  readonly #key: KeyObject;
  readonly #alg: 'ES256' | 'EdDSA';
  readonly #jwk: PublicJwk;
  readonly #headerPart: string;

  /**
   * `pem` is a PKCS#8 private key, EC P-256 or Ed25519. Throws a plain Error naming what is
   * wrong otherwise (a start-up failure, never a per-request one).
   */
  constructor(issuer: string, pem: string, ttlSec: number) {
    const key = createPrivateKey(pem);
    const details = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') {
      this.#alg = 'ES256';
    } else if (key.asymmetricKeyType === 'ed25519') {
      this.#alg = 'EdDSA';
    } else {
      throw new Error('internalJwt.signingKey must be an EC P-256 or Ed25519 private key');
    }
    const pub = createPublicKey(key).export({ format: 'jwk' }) as Record<string, string>;
    const kid = thumbprint(pub);
    this.#jwk = Object.freeze({ ...pub, kid, alg: this.#alg, use: 'sig' });
    this.#headerPart = b64url({ alg: this.#alg, kid, typ: 'JWT' });
    this.#issuer = issuer;
    this.#ttlSec = ttlSec;
    this.#key = key;
  }

  /** The JWKS document for the admin listener. */
  jwks(): { readonly keys: readonly PublicJwk[] } {
    return { keys: [this.#jwk] };
  }

  /** A compact JWS for `principal` calling `audience` in request `requestId`. */
  sign(principal: Principal, audience: string, requestId: string, nowSec: number): string {
    const payload = b64url({
      iss: this.#issuer,
      aud: audience,
      sub: principal.subject,
      client_id: principal.clientId,
      scope: principal.scopes.length === 0 ? undefined : principal.scopes.join(' '),
      groups: principal.groups.length === 0 ? undefined : principal.groups,
      spiffe_id: principal.certificate?.spiffeId,
      principal_issuer: principal.issuer,
      credential: principal.kind,
      request_id: requestId,
      iat: nowSec,
      exp: nowSec + this.#ttlSec,
      jti: randomUUID(),
    });
    const input = `${this.#headerPart}.${payload}`;
    const signature = this.#alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: this.#key, dsaEncoding: 'ieee-p1363' })
      : sign(null, Buffer.from(input), this.#key);
    return `${input}.${signature.toString('base64url')}`;
  }
}
