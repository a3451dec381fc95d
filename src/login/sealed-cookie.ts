/**
 * Sealed cookie values: small JSON objects encrypted and authenticated with AES-256-GCM, so the
 * browser can carry login state (the PKCE verifier, the nonce, where to return) that it can
 * neither read nor change. Nothing here is a session: the session cookie is a random id looked
 * up on the server (session-store.ts).
 *
 * ```
 * value = "v1." base64url( iv (12 bytes) | ciphertext | tag (16 bytes) )
 * AAD   = "portcullis-cookie v1 " purpose      (a value sealed for one purpose opens for no other)
 * key   = HKDF-SHA256(secret, salt "portcullis-login", info "cookie v1"), 32 bytes
 * ```
 *
 * The plaintext carries its own expiry (`exp`, seconds), checked on opening, so a cookie kept
 * past its Max-Age by a client is refused all the same.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const kVersionPrefix = 'v1.';
const kIvBytes = 12;
const kTagBytes = 16;
/** Browsers keep about 4096 bytes per cookie; anything longer was not made here. */
export const kMaxSealedLength = 3800;

/** Seals and opens cookie values with one key. */
export class CookieSealer {
  readonly #key: Buffer;

  /**
   * `secret`: the configured `login.cookieKey` (at least 32 characters), or undefined for a
   * random key that lives as long as the process (one instance only: another instance could
   * not open what this one sealed).
   */
  constructor(secret: string | undefined) {
    const material = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
    this.#key = Buffer.from(hkdfSync('sha256', material, 'portcullis-login', 'cookie v1', 32));
  }

  /**
   * `payload` (JSON-serialisable, without an `exp` key) sealed for `purpose`, valid until
   * `expiresAtSec`. The result is cookie-safe text (base64url and dots).
   */
  seal(purpose: string, payload: Readonly<Record<string, unknown>>, expiresAtSec: number): string {
    const iv = randomBytes(kIvBytes);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(`portcullis-cookie v1 ${purpose}`));
    const plain = Buffer.from(JSON.stringify({ ...payload, exp: expiresAtSec }), 'utf8');
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return `${kVersionPrefix}${sealed.toString('base64url')}`;
  }

  /**
   * The payload sealed in `value` for `purpose`, or undefined when the value was not sealed
   * with this key for this purpose, was altered, is malformed, or expired before `nowSec`.
   * Never throws.
   */
  open(purpose: string, value: string, nowSec: number): Record<string, unknown> | undefined {
    if (value.length > kMaxSealedLength || !value.startsWith(kVersionPrefix)) return undefined;
    const sealed = Buffer.from(value.slice(kVersionPrefix.length), 'base64url');
    if (sealed.length < kIvBytes + kTagBytes + 2) return undefined;

    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, kIvBytes));
      decipher.setAAD(Buffer.from(`portcullis-cookie v1 ${purpose}`));
      decipher.setAuthTag(sealed.subarray(sealed.length - kTagBytes));
      plain = Buffer.concat([decipher.update(sealed.subarray(kIvBytes, sealed.length - kTagBytes)),
        decipher.final()]);
    } catch {
      return undefined;
    }

    let payload: unknown;
    try {
      payload = JSON.parse(plain.toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    const exp = (payload as Record<string, unknown>).exp;
    if (typeof exp !== 'number' || !(nowSec < exp)) return undefined;
    return payload as Record<string, unknown>;
  }
}
