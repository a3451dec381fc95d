import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorCode } from '../../src/errors/index.js';
import { type TokenLimits, inspectToken } from '../../src/authn/index.js';

const kLimits: TokenLimits = { maxTokenBytes: 8192, maxHeaderBytes: 1024 };
const kPayload = { iss: 'https://issuer.test', sub: 'alice', exp: 2_000_000_000 };

function seg(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Buffer.from(text).toString('base64url');
}

function jws(header: unknown, payload: unknown = kPayload, signature = 'c2lnbmF0dXJl'): string {
  return `${seg(header)}.${seg(payload)}.${signature}`;
}

interface Case {
  readonly why: string;
  readonly token: string;
  readonly limits?: TokenLimits;
  readonly code?: ErrorCode;
  readonly alg?: string;
  readonly issuer?: string;
}

const kCases: readonly Case[] = [
  // Accepted shapes.
  {
    why: 'a plain RS256 token passes and its unverified issuer is reported',
    token: jws({ alg: 'RS256', kid: 'k1', typ: 'JWT' }),
    alg: 'RS256',
    issuer: 'https://issuer.test',
  },
  {
    why: 'a token without iss passes the shape check with an undefined issuer',
    token: jws({ alg: 'ES256' }, { sub: 'x' }),
    alg: 'ES256',
  },
  {
    why: 'jku, x5u, jwk and x5c headers are ignored, never rejected or followed',
    token: jws({ alg: 'RS256', jku: 'http://127.0.0.1:1/k', x5u: 'http://x', jwk: {}, x5c: [] }),
    alg: 'RS256',
    issuer: 'https://issuer.test',
  },

  // Size caps come first.
  {
    why: 'a token over maxTokenBytes is refused before it is parsed',
    token: jws({ alg: 'RS256' }, { iss: 'x', pad: 'a'.repeat(9000) }),
    code: 'IAM_AUTHN_TOKEN_TOO_LARGE',
  },
  {
    why: 'a header over maxHeaderBytes is refused before JSON parsing',
    token: jws({ alg: 'RS256', pad: 'a'.repeat(2000) }),
    code: 'IAM_AUTHN_TOKEN_TOO_LARGE',
  },
  {
    why: 'an oversize token that is not even a JWS still reports the size first',
    token: 'x'.repeat(9000),
    code: 'IAM_AUTHN_TOKEN_TOO_LARGE',
  },

  // Segments.
  {
    why: 'two segments (no signature part) are malformed',
    token: `${seg({ alg: 'RS256' })}.${seg(kPayload)}`,
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'an empty signature is an unsecured JWS and malformed',
    token: jws({ alg: 'RS256' }, kPayload, ''),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'five segments are a JWE, which a bearer token must not be',
    token: `${seg({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.aaaa.bbbb.cccc.dddd`,
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'padding and base64 (not base64url) characters are malformed',
    token: `${seg({ alg: 'RS256' })}.${seg(kPayload)}.ab+/cd==`,
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'an empty header segment is malformed',
    token: `.${seg(kPayload)}.c2ln`,
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'a header that is not JSON is malformed',
    token: jws('{alg:RS256'),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'a header that is a JSON array is malformed',
    token: jws(['RS256']),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'a payload that is not a JSON object is malformed',
    token: jws({ alg: 'RS256' }, 'not json'),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },

  // Algorithm.
  {
    why: 'alg none is never allowed',
    token: jws({ alg: 'none' }),
    code: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'alg NoNe in any case is still none',
    token: jws({ alg: 'NoNe' }),
    code: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'a missing alg is not allowed',
    token: jws({ typ: 'JWT' }),
    code: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'a non-string alg is malformed',
    token: jws({ alg: 256 }),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },

  // Extensions that change how the token is processed.
  {
    why: 'crit naming anything is unsupported, since we understand no extension',
    token: jws({ alg: 'RS256', crit: ['exp'], exp: 1 }),
    code: 'IAM_AUTHN_CRIT_UNSUPPORTED',
  },
  {
    why: 'crit with b64:false (unencoded payload) is unsupported',
    token: jws({ alg: 'RS256', crit: ['b64'], b64: false }),
    code: 'IAM_AUTHN_CRIT_UNSUPPORTED',
  },
  {
    why: 'an empty crit array is malformed per RFC 7515 4.1.11',
    token: jws({ alg: 'RS256', crit: [] }),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'b64:false without crit is malformed',
    token: jws({ alg: 'RS256', b64: false }),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'zip (compressed payload) is refused as malformed',
    token: jws({ alg: 'RS256', zip: 'DEF' }),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'enc in a three-part token is refused as malformed',
    token: jws({ alg: 'RS256', enc: 'A128GCM' }),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'a non-string kid is malformed',
    token: jws({ alg: 'RS256', kid: 7 }),
    code: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
];

describe('authn/token-shape', () => {
  for (const c of kCases) {
    test(c.why, () => {
      const result = inspectToken(c.token, c.limits ?? kLimits);
      if (c.code !== undefined) {
        assert.deepEqual(result, { ok: false, code: c.code });
        return;
      }
      assert.equal(result.ok, true);
      if (!result.ok) return;
      assert.equal(result.header.alg, c.alg);
      assert.equal(result.issuer, c.issuer);
    });
  }
});
