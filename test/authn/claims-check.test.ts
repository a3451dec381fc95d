import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorCode } from '../../src/errors/index.js';
import { type ClaimRules, checkClaims } from '../../src/authn/index.js';

// A frozen clock: every case is evaluated at this instant (seconds since the epoch).
const kNow = 1_800_000_000;
const kIss = 'https://issuer.test';
const kRules: ClaimRules = {
  issuer: kIss,
  audiences: ['api://orders'],
  requiredClaims: ['sub'],
  clockSkewSec: 30,
  requireExp: true,
};
const kGood = { iss: kIss, aud: 'api://orders', sub: 'alice', exp: kNow + 60, iat: kNow - 10 };

interface Case {
  readonly why: string;
  readonly claims: Record<string, unknown>;
  readonly rules?: Partial<ClaimRules>;
  readonly typ?: string;
  readonly code?: ErrorCode;
}

const kCases: readonly Case[] = [
  { why: 'a token meeting every rule passes', claims: kGood },

  // iss
  {
    why: 'a different issuer fails even if it differs only by a trailing slash',
    claims: { ...kGood, iss: `${kIss}/` },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },
  {
    why: 'a missing iss fails',
    claims: { ...kGood, iss: undefined },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },

  // exp and skew edges
  {
    why: 'exp one second past (within skew) still passes',
    claims: { ...kGood, exp: kNow - 1 },
  },
  {
    why: 'exp exactly skew seconds ago is expired: exp + skew is the first invalid instant',
    claims: { ...kGood, exp: kNow - 30 },
    code: 'IAM_AUTHN_TOKEN_EXPIRED',
  },
  {
    why: 'exp long past is expired',
    claims: { ...kGood, exp: kNow - 3600 },
    code: 'IAM_AUTHN_TOKEN_EXPIRED',
  },
  {
    why: 'exp missing fails when exp is required (the default)',
    claims: { ...kGood, exp: undefined },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },
  {
    why: 'exp missing passes when the issuer does not require it',
    claims: { ...kGood, exp: undefined },
    rules: { requireExp: false },
  },
  {
    why: 'exp given as a string is not a NumericDate',
    claims: { ...kGood, exp: String(kNow + 60) },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },

  // nbf
  { why: 'nbf in the past passes', claims: { ...kGood, nbf: kNow - 5 } },
  { why: 'nbf exactly skew seconds ahead passes', claims: { ...kGood, nbf: kNow + 30 } },
  {
    why: 'nbf beyond the skew is not yet valid',
    claims: { ...kGood, nbf: kNow + 31 },
    code: 'IAM_AUTHN_TOKEN_NOT_YET_VALID',
  },
  { why: 'nbf null is mistyped', claims: { ...kGood, nbf: null }, code: 'IAM_AUTHN_CLAIM_INVALID' },

  // iat and max age
  {
    why: 'iat as a string is mistyped',
    claims: { ...kGood, iat: 'x' },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },
  {
    why: 'a token younger than the max age passes',
    claims: { ...kGood, iat: kNow - 300 },
    rules: { maxTokenAgeSec: 600 },
  },
  {
    why: 'a token older than the max age plus skew is too old',
    claims: { ...kGood, iat: kNow - 631 },
    rules: { maxTokenAgeSec: 600 },
    code: 'IAM_AUTHN_TOKEN_TOO_OLD',
  },
  {
    why: 'a max age cannot be enforced without iat, so a missing iat fails',
    claims: { ...kGood, iat: undefined },
    rules: { maxTokenAgeSec: 600 },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },
  {
    why: 'an iat in the future beyond skew is not yet valid when max age applies',
    claims: { ...kGood, iat: kNow + 120 },
    rules: { maxTokenAgeSec: 600 },
    code: 'IAM_AUTHN_TOKEN_NOT_YET_VALID',
  },

  // aud
  {
    why: 'aud as an array containing our audience passes',
    claims: { ...kGood, aud: ['x', 'api://orders'] },
  },
  {
    why: 'aud naming only other services fails',
    claims: { ...kGood, aud: ['api://billing'] },
    code: 'IAM_AUTHN_AUDIENCE_MISMATCH',
  },
  {
    why: 'a missing aud fails when audiences are configured',
    claims: { ...kGood, aud: undefined },
    code: 'IAM_AUTHN_AUDIENCE_MISMATCH',
  },
  {
    why: 'an aud array holding a non-string is mistyped',
    claims: { ...kGood, aud: ['api://orders', 5] },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },
  {
    why: 'aud is not checked when no audiences are configured',
    claims: { ...kGood, aud: 'anything' },
    rules: { audiences: [] },
  },

  // required claims
  {
    why: 'a missing required claim fails',
    claims: { ...kGood, sub: undefined },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },
  {
    why: 'a null required claim counts as missing',
    claims: { ...kGood, sub: null },
    code: 'IAM_AUTHN_CLAIM_INVALID',
  },

  // typ
  {
    why: 'typ at+jwt matches a required at+jwt',
    claims: kGood,
    rules: { typ: 'at+jwt' },
    typ: 'at+jwt',
  },
  {
    why: 'typ is compared case-insensitively with the application/ prefix optional',
    claims: kGood,
    rules: { typ: 'at+jwt' },
    typ: 'Application/AT+JWT',
  },
  {
    why: 'a plain JWT typ does not satisfy an at+jwt requirement',
    claims: kGood,
    rules: { typ: 'at+jwt' },
    typ: 'JWT',
    code: 'IAM_AUTHN_TYPE_MISMATCH',
  },
  {
    why: 'a missing typ fails when one is required',
    claims: kGood,
    rules: { typ: 'at+jwt' },
    code: 'IAM_AUTHN_TYPE_MISMATCH',
  },
];

describe('authn/claims-check', () => {
  for (const c of kCases) {
    test(c.why, () => {
      const header = c.typ === undefined ? {} : { typ: c.typ };
      const result = checkClaims(c.claims, { ...kRules, ...c.rules }, header, kNow);
      assert.deepEqual(result, c.code === undefined ? { ok: true } : { ok: false, code: c.code });
    });
  }
});
