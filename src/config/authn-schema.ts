/**
 * The `authn` block of the config: token size caps, the verifier pool, the verified-token cache
 * and the list of trusted issuers with their key sources and claim rules. The rules that span
 * fields (one key source per issuer, unique issuers, refresh bounds) are in cross-checks.ts.
 *
 * Only asymmetric JWS algorithms can be configured. HMAC would make every verifier a possible
 * signer, and `none` is no signature at all; both are refused with a diagnostic saying so.
 */
import { z } from 'zod';
import { showValue } from './diagnostics.js';
import {
  type SchemaContext, boolField, cidr, customIssue, enumField, intField, mapping, nonNegativeInt,
  positiveInt, readableFile, secret,
} from './schema-fields.js';
import { isHttpUrl, isIssuerUrl } from './syntax.js';

/** Every JWS algorithm an issuer may use, in the order `algorithms` defaults to. */
export const kJwsAlgorithms = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
] as const;

/** Most names in a claim path such as `realm_access.roles` (src/authn/claim-path.ts). */
export const kMaxClaimPathDepth = 8;

/** One accepted JWS algorithm. */
export type JwsAlgorithm = typeof kJwsAlgorithms[number];

const kAlgorithm = `expected one of ${kJwsAlgorithms.join(', ')}`;
const kIssuer = 'expected an absolute http(s) URL such as "https://login.example.com" ' +
  '(no user info, query or fragment), written exactly as tokens carry it in "iss"';
const kJwksUrl = 'expected an absolute http(s) URL such as "https://login.example.com/jwks"';
const kDiscovery = 'expected true (leave discovery out when keys come from jwksUrl or jwksFile)';

/** Builds the `authn` block; absent as a whole, it takes every default (and no issuers). */
export function authnSchema(ctx: SchemaContext) {
  const pool = mapping({
    threads: intField(1, 64, 'expected an integer from 1 to 64').default(2),
    maxQueue: positiveInt().default(4096),
    batchMaxItems: intField(1, 256, 'expected an integer from 1 to 256').default(16),
    batchMaxWaitUs: intField(0, 100000, 'expected an integer from 0 to 100000').default(200),
    // Every algorithm by default: verified per event-loop turn on the serving thread, measured
    // faster end to end than the pool (README.md, Performance); [] sends every token to the pool.
    inlineAlgorithms: z.array(algorithm(), { error: 'expected a list of algorithms' })
      .default((): JwsAlgorithm[] => [...kJwsAlgorithms]),
    // Signature arithmetic: node:crypto (measured faster) or jose/WebCrypto (src/authn/README.md).
    engine: enumField(['node', 'jose'] as const).default('node'),
  });

  const cache = mapping({
    maxEntries: nonNegativeInt().default(10000),
    maxBytes: nonNegativeInt().default(16 * 1024 * 1024),
  });

  return mapping({
    maxTokenBytes: intField(1, 65536, 'expected an integer from 1 to 65536').default(8192),
    maxTokenHeaderBytes: intField(1, 16384, 'expected an integer from 1 to 16384').default(2048),
    pool: pool.prefault({}),
    cache: cache.prefault({}),
    issuers: z.array(issuerSchema(ctx), { error: 'expected a list of issuers' })
      .default(() => []),
    // Front proxies (Envoy) whose X-Forwarded-Client-Cert header is believed; none by default.
    forwardedClientCert: mapping({
      trustedProxies: z.array(cidr(), { error: 'expected a list of addresses or CIDRs' })
        .default([]),
    }).prefault({}),
  });
}

/** One entry of `authn.issuers`. */
function issuerSchema(ctx: SchemaContext) {
  const refresh = mapping({
    minMs: positiveInt().default(300000),
    maxMs: positiveInt().default(86400000),
    unknownKidIntervalMs: positiveInt().default(30000),
    fetchTimeoutMs: positiveInt().default(5000),
  });

  return mapping({
    issuer: z.string({ error: kIssuer }).refine(isIssuerUrl, { error: kIssuer }),
    // Key sources: exactly one of the three (checked in cross-checks.ts).
    discovery: z.literal(true, { error: kDiscovery }).optional(),
    jwksUrl: z.string({ error: kJwksUrl }).refine(isHttpUrl, { error: kJwksUrl }).optional(),
    jwksFile: readableFile(ctx).optional(),
    algorithms: z.array(algorithm(), { error: 'expected a list of algorithms' })
      .min(1, { error: 'expected at least one algorithm (leave algorithms out for all of them)' })
      .default(() => [...kJwsAlgorithms]),
    audiences: stringList('audience').default(() => []),
    requiredClaims: stringList('claim name').default(() => []),
    requireExp: boolField().default(true),
    clockSkewSec: intField(0, 600, 'expected an integer from 0 to 600').default(30),
    maxTokenAgeSec: positiveInt().optional(),
    typ: nonEmptyString('expected a token type such as "at+jwt"').optional(),
    // How claims become the principal's groups and attributes (src/authn/principal.ts).
    groupsClaims: z.array(claimPath(), { error: 'expected a list of claim paths' })
      .default(() => ['groups', 'roles']),
    attributeClaims: attributeMap(claimPath(), 'claim path').default(() => ({})),
    refresh: refresh.prefault({}),
    // RFC 7662: opaque tokens are asked about at this endpoint (one issuer at most).
    introspection: mapping({
      endpoint: z.string({ error: kJwksUrl }).refine(isHttpUrl, { error: kJwksUrl }),
      clientId: nonEmptyString('expected the client id the proxy authenticates with'),
      clientSecret: secret(ctx),
    }).optional(),
  });
}

/**
 * One entry of `algorithms`. HMAC and `none` get their own diagnostic, because someone who
 * writes them means it and should learn why they are refused, not only what is allowed.
 */
function algorithm() {
  return z.string({ error: kAlgorithm }).transform((alg, zctx): JwsAlgorithm => {
    if (isJwsAlgorithm(alg)) return alg;
    if (/^hs/i.test(alg) || alg.toLowerCase() === 'none') {
      const message = `${showValue(alg)} is refused: HMAC algorithms let anyone who can ` +
        'verify a token also forge one, and "none" is no signature at all; use an asymmetric ' +
        `algorithm (${kJwsAlgorithms.join(', ')})`;
      zctx.addIssue(customIssue(message));
    } else {
      zctx.addIssue(customIssue(`${kAlgorithm}, got ${showValue(alg)}`));
    }
    return z.NEVER;
  });
}

const kClaimPath = `expected a claim name, or a dot path of at most ${kMaxClaimPathDepth} ` +
  'names such as "realm_access.roles"';
const kAttributeName = 'expected an attribute name: a letter or _, then letters, digits, _ or -, ' +
  'at most 64 characters';

/** A claim path (src/authn/claim-path.ts): one claim name, or dot-separated nested names. */
function claimPath() {
  return z.string({ error: kClaimPath }).refine((path) => path !== ''
    && path.split('.').length <= kMaxClaimPathDepth && !path.split('.').includes(''),
  { error: kClaimPath });
}

const kAttributeNamePattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * A mapping from attribute names (as policy writes them after `claims.`) to `value`s. A bad
 * name is reported at its own key, with the rule for names (zod's record keys would only say
 * the mapping is wrong).
 */
export function attributeMap<T extends z.ZodType<string>>(value: T, what: string) {
  return z.record(z.string(), value, { error: `expected a mapping of attribute name to ${what}` })
    .superRefine((map, ctx) => {
      for (const name of Object.keys(map)) {
        if (kAttributeNamePattern.test(name)) continue;
        ctx.addIssue(customIssue(`${kAttributeName}, got ${showValue(name)}`, [name]));
      }
    });
}

function isJwsAlgorithm(alg: string): alg is JwsAlgorithm {
  return (kJwsAlgorithms as readonly string[]).includes(alg);
}

function stringList(what: string) {
  return z.array(nonEmptyString(`expected a non-empty ${what}`),
    { error: `expected a list of ${what}s` });
}

function nonEmptyString(expected: string) {
  return z.string({ error: expected }).min(1, { error: expected });
}
