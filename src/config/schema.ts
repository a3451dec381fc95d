/**
 * The config schema: every key, its type and its default, in the order of the README table
 * (src/config/README.md). All mappings are strict, so an unknown key (usually a typo) is an
 * error. The schema is built per load because secrets and relative file paths need the
 * config file's directory and the environment; see `SchemaContext`.
 *
 * Parse with `safeParseAsync`: secret and file checks are asynchronous. A synchronous parse is
 * only safe for input that holds no `tls` block and no secret (the embedded default).
 */
import { z } from 'zod';
import { kLogLevels } from '../telemetry/index.js';
import { attributeMap, authnSchema } from './authn-schema.js';
import { auditSchema, revocationSchema } from './audit-schema.js';
import { checkIdentityNames, identityHeaderName } from './identity-schema.js';
import { checkConfigCrossFields, checkUpstreamTLS } from './cross-checks.js';
import { decisionListenerSchema } from './decision-schema.js';
import { checkLoginBlock, loginSchema } from './login-schema.js';
import { checkPolicyBlock, policySchema } from './policy-schema.js';
import { type SecretValue } from './secret-value.js';
import { isIssuerUrl, isServiceName } from './syntax.js';
import {
  type SchemaContext, boolField, bindHost, customIssue, cidr, enumField, headerName, hostPattern, intField,
  listenPort, mapping, nonNegativeInt, pathPrefix, positiveInt, readableFile, secret, serverName,
  upstreamAddress,
} from './schema-fields.js';

const kThreads = 'expected "auto" or an integer from 1 to 64';

/** Builds the schema for one load. The output, frozen, is `Config`. */
export function buildConfigSchema(ctx: SchemaContext) {
  const listener = (port: number) => mapping({
    host: bindHost().default('127.0.0.1'),
    port: listenPort().default(port),
  });

  const listeners = mapping({
    proxy: listener(8080).extend({
      tls: mapping({
        certFile: readableFile(ctx),
        keyFile: readableFile(ctx),
        passphrase: secret(ctx).optional(),
      }).optional(),
    }).prefault({}),
    admin: listener(9901).prefault({}),
    // Optional: the node:https listener that requires client certificates (mTLS in).
    mtls: listener(8443).extend({
      certFile: readableFile(ctx),
      keyFile: readableFile(ctx),
      passphrase: secret(ctx).optional(),
      caFiles: z.array(readableFile(ctx), { error: 'expected a list of CA certificate files' })
        .min(1, { error: 'expected at least one CA file: client certificates must chain to it' }),
      crlFile: readableFile(ctx).optional(),
    }).optional(),
    // Optional: answers allow/deny to an ingress's auth checks (decision-schema.ts).
    decision: decisionListenerSchema().optional(),
  });

  const limits = mapping({
    maxHeaderBytes: positiveInt().default(16384),
    maxHeaderCount: intField(1, 1000, 'expected an integer from 1 to 1000').default(100),
    maxUrlBytes: positiveInt().default(8192),
  });

  const routing = mapping({
    slashes: enumField(['merge', 'reject']).default('merge'),
    trustedProxies: z.array(cidr(), { error: 'expected a list of addresses or CIDRs' })
      .default([]),
    requestIdHeader: headerName().default('x-request-id'),
  });

  return mapping({
    listeners: listeners.prefault({}),
    limits: limits.prefault({}),
    routing: routing.prefault({}),
    services: z.array(serviceSchema(ctx), { error: 'expected a list of services' })
      .min(1, { error: 'expected at least one service' }),
    shutdown: mapping({ drainTimeoutMs: nonNegativeInt().default(10000) }).prefault({}),
    // uWS event loops serving the proxy (and decision) listeners: `auto` is one per CPU the
    // process may use (src/threads/).
    threads: z.union([z.literal('auto'), intField(1, 64, kThreads)], { error: kThreads })
      .default('auto'),
    log: mapping({ level: enumField(kLogLevels).default('info') }).prefault({}),
    demo: mapping({
      enabled: boolField().default(false),
      port: listenPort().default(8081),
    }).prefault({}),
    uws: mapping({ allowFallback: boolField().default(false) }).prefault({}),
    admin: mapping({ token: secret(ctx).optional() }).prefault({}),
    authn: authnSchema(ctx).prefault({}),
    audit: auditSchema(ctx).prefault({}).superRefine((audit, zctx) => {
      if (audit.sink === 'file' && audit.file.path === undefined) {
        zctx.addIssue(customIssue('expected audit.file.path: sink "file" needs a file',
          ['file', 'path']));
      }
    }),
    revocation: revocationSchema(ctx).prefault({}),
    // The proxy's own signing key for internal JWTs (services opt in per route).
    internalJwt: mapping({
      issuer: z.string({ error: kInternalIssuer }).refine(isIssuerUrl, { error: kInternalIssuer }),
      signingKey: secret(ctx),
      ttlSec: intField(5, 3600, 'expected a lifetime in seconds from 5 to 3600').default(60),
    }).optional(),
    policy: policySchema(ctx).optional(),
    // Browser login through one OIDC issuer (src/login/); services opt in with `login: true`.
    login: loginSchema(ctx).optional(),
  }).superRefine(checkConfigCrossFields, { when: () => true })
    .superRefine(checkPolicyBlock, { when: () => true })
    .superRefine(checkLoginBlock, { when: () => true });
}

/** One entry of `services`. */
const kInternalIssuer = 'expected an absolute http(s) URL naming the proxy as issuer';

function serviceSchema(ctx: SchemaContext) {
  const kName = 'expected a name of lower-case letters, digits and "-" (1 to 63, not "-" first)';
  return mapping({
    name: z.string({ error: kName }).refine(isServiceName, { error: kName }),
    hosts: z.array(hostPattern(), { error: 'expected a list of hosts' })
      .min(1, { error: 'expected at least one host (use "*" for any host)' })
      .default(['*']),
    pathPrefix: pathPrefix().default('/'),
    stripPrefix: boolField().default(false),
    // Required: neither value is a safe default. 'authenticated' routes need a bearer token
    // from a configured issuer (401 IAM_AUTHN_REQUIRED for everyone when there is none).
    // Required unless a policy block is configured (then refused): see policy-schema.ts.
    access: enumField(['public', 'authenticated']).optional(),
    maxBodyBytes: nonNegativeInt().default(10 * 1024 * 1024),
    // Browser login mode: sessions count as credentials, navigations go to the login page.
    login: boolField().default(false),
    // What an authenticated route tells its upstream about the caller.
    identity: mapping({
      headers: boolField().default(true),
      headerNames: mapping({
        credential: identityHeaderName().optional(),
        subject: identityHeaderName().optional(),
        issuer: identityHeaderName().optional(),
        clientId: identityHeaderName().optional(),
        scopes: identityHeaderName().optional(),
        groups: identityHeaderName().optional(),
        spiffeId: identityHeaderName().optional(),
      }).prefault({}),
      attributes: attributeMap(identityHeaderName(), 'header name').default(() => ({})),
      forwardToken: boolField().default(false),
      internalJwt: boolField().default(false),
    }).prefault({}).superRefine(checkIdentityNames),
    upstream: upstreamSchema(ctx),
  });
}

/** The `upstream` block of a service: where requests go and how the pool behaves. */
function upstreamSchema(ctx: SchemaContext) {
  return mapping({
    addresses: z.array(upstreamAddress(), { error: 'expected a list of addresses' })
      .min(1, { error: 'expected at least one address' }),
    balance: enumField(['round-robin', 'least-pending']).default('round-robin'),
    maxConnections: positiveInt().default(128),
    maxQueued: nonNegativeInt().default(1024),
    connectTimeoutMs: positiveInt().default(2000),
    headersTimeoutMs: positiveInt().default(30000),
    bodyTimeoutMs: positiveInt().default(30000),
    idleTimeoutMs: positiveInt().default(60000),
    failureCooldownMs: nonNegativeInt().default(2000),
    tls: mapping({
      caFile: readableFile(ctx).optional(),
      certFile: readableFile(ctx).optional(),
      keyFile: readableFile(ctx).optional(),
      passphrase: secret(ctx).optional(),
      serverName: serverName().optional(),
      rejectUnauthorized: boolField().default(true),
    }).optional(),
  }).superRefine(checkUpstreamTLS);
}

type ConfigOutput = z.output<ReturnType<typeof buildConfigSchema>>;

/** `T` with every property and array read-only, all the way down; secrets stay as they are. */
export type DeepReadonly<T> = T extends SecretValue ? T
  : T extends readonly (infer E)[] ? readonly DeepReadonly<E>[]
    : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/**
 * The loaded config: defaults applied, host names lower-cased, file paths absolute, secrets
 * resolved to `SecretValue`. Deeply frozen at run time.
 */
export type Config = DeepReadonly<ConfigOutput>;

/** The config as written (before defaults); what `embeddedDefaultConfig` builds. */
export type ConfigInput = z.input<ReturnType<typeof buildConfigSchema>>;

/** One entry of `services`. */
export type ServiceConfig = Config['services'][number];

/** The `upstream` block of a service. */
export type UpstreamConfig = ServiceConfig['upstream'];

/** A listener (`listeners.proxy` or `listeners.admin`). */
export type ListenerConfig = Config['listeners']['admin'];

/** The optional mTLS listener (`listeners.mtls`): its TLS files and the client CAs. */
export type MtlsListenerConfig = NonNullable<Config['listeners']['mtls']>;

/** The optional decision listener (`listeners.decision`): flavor and trusted ingresses. */
export type DecisionListenerConfig = NonNullable<Config['listeners']['decision']>;

/** The `audit` block: sink, queue, redaction, live feed, session table. */
export type AuditConfig = Config['audit'];

/** The `login` block (undefined when browser login is not configured). */
export type LoginConfig = NonNullable<Config['login']>;

/** The `revocation` block. */
export type RevocationConfig = Config['revocation'];

/** The `authn` block: token size caps, verifier pool, token cache and trusted issuers. */
export type AuthnConfig = Config['authn'];

/**
 * One entry of `authn.issuers`. Exactly one of `discovery` (always `true` when set), `jwksUrl`
 * and `jwksFile` (absolute) is present; `algorithms` is never empty.
 */
export type IssuerConfig = AuthnConfig['issuers'][number];
