/**
 * The `jose` signature engine: jose's `compactVerify` through WebCrypto, pinned to the one
 * algorithm the verify task chose, with keys imported once per key-set version. It was the only
 * engine until `node` replaced it as the default (engine.ts gives the measured reason); it stays
 * selectable with `authn.pool.engine: jose`, and the differential test checks `node` against it.
 * jose's error codes become registry codes here; its messages never leave this file.
 */
import { type JWK, compactVerify, importJWK } from 'jose';
import type { IssuerKeySet } from '../key-set.js';
import type { EngineResult, SignatureEngine, SignedToken } from './engine.js';
import { PreparedKeys } from './prepared-keys.js';

type JoseKey = Awaited<ReturnType<typeof importJWK>>;

/** Import promises (a rejected one stays: the same JWK would fail again). */
const imported = new PreparedKeys<Promise<JoseKey>>();

/** Maps a jose (or WebCrypto) failure to a registry code. */
function mapError(error: unknown): string {
  switch ((error as { code?: unknown } | null)?.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return 'IAM_AUTHN_SIGNATURE_INVALID';
    case 'ERR_JWS_INVALID': return 'IAM_AUTHN_TOKEN_MALFORMED';
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return 'IAM_AUTHN_ALG_NOT_ALLOWED';
    case 'ERR_JOSE_NOT_SUPPORTED': return 'IAM_AUTHN_ALG_NOT_ALLOWED';
    case 'ERR_JWK_INVALID': return 'IAM_AUTHN_KEY_UNKNOWN';
    default:
      return error instanceof TypeError ? 'IAM_AUTHN_KEY_UNKNOWN' : 'IAM_AUTHN_VERIFIER_FAILED';
  }
}

async function verifyJose(ks: IssuerKeySet, candidates: readonly JWK[], signed: SignedToken):
  Promise<EngineResult> {
  const { token, alg } = signed;
  for (const jwk of candidates) {
    let key: JoseKey;
    try {
      const pending = imported.get(ks, jwk, alg, (j) => importJWK({ ...j, ext: false }, alg));
      key = await (pending as Promise<JoseKey>);
    } catch {
      return { ok: false, code: 'IAM_AUTHN_KEY_UNKNOWN' };
    }
    try {
      const { payload } = await compactVerify(token, key, { algorithms: [alg] });
      return { ok: true, kid: jwk.kid, payload };
    } catch (error) {
      const code = mapError(error);
      if (code !== 'IAM_AUTHN_SIGNATURE_INVALID') return { ok: false, code };
    }
  }
  return { ok: false, code: 'IAM_AUTHN_SIGNATURE_INVALID' };
}

/** The jose engine. */
export const kJoseEngine: SignatureEngine = { name: 'jose', verify: verifyJose };
