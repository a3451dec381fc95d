/**
 * The building blocks of the config schema: one zod schema per kind of field, each carrying the
 * 'expected ...' phrase its diagnostics print (the loader appends ', got <value>'). Issues that
 * carry `params.isComplete` already say what was found and are printed as they are; issues that
 * also carry `params.isSecret` come from secret resolution (IAM_CONFIG_SECRET_UNRESOLVED).
 */
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SecretValue } from './secret-value.js';
import { errnoCode, parseSecretRef, resolveSecret } from './secrets.js';
import {
  isAddressOrCIDR, isBindHost, isHeaderName, isHostname, isHostPattern, parseUpstreamAddress,
  pathPrefixProblem,
} from './syntax.js';

const kBindHost = 'expected an IP address to bind such as 127.0.0.1, 0.0.0.0 or ::';
const kHostPattern = 'expected a hostname, "*.suffix" or "*" (no scheme, no port)';
const kServerName = 'expected a DNS hostname for TLS server name indication';
const kCIDR = 'expected an IPv4/IPv6 address or CIDR such as 10.0.0.0/8 or fd00::/8';
const kAddress = 'expected "host:port", "[v6]:port" or "https://host:port" (port 1 to 65535)';
const kHeader = 'expected an HTTP header name such as x-request-id';

/** What schema transforms need from outside: where relative paths start, and the environment. */
export interface SchemaContext {
  /** Directory that relative file paths (TLS files, secret files) are resolved against. */
  readonly baseDir: string;
  /** Environment that `{ env: NAME }` secrets are read from. */
  readonly env: NodeJS.ProcessEnv;
}

/** A mapping whose unknown keys are errors, so a misspelt key never silently falls back. */
export function mapping<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: 'expected a mapping' });
}

/** An integer in [min, max]; `expected` is the phrase shown when the value is anything else. */
export function intField(min: number, max: number, expected: string) {
  return z.number({ error: expected }).int({ error: expected })
    .min(min, { error: expected }).max(max, { error: expected });
}

/** An integer >= 1. */
export const positiveInt = () =>
  intField(1, Number.MAX_SAFE_INTEGER, 'expected a positive integer');

/** An integer >= 0. */
export const nonNegativeInt = () =>
  intField(0, Number.MAX_SAFE_INTEGER, 'expected a non-negative integer');

/** A listening port; 0 asks the OS for a free port (tests use that). */
export const listenPort = () =>
  intField(0, 65535, 'expected an integer from 0 to 65535 (0 picks a free port)');

/** true or false (YAML 1.2: `yes`/`no` are strings, and rejected here). */
export const boolField = () => z.boolean({ error: 'expected true or false' });

/** One of a fixed list of strings. */
export function enumField<const T extends readonly [string, ...string[]]>(values: T) {
  const quoted = values.map((v) => `"${v}"`);
  const list = quoted.length === 2 ? quoted.join(' or ') : `one of ${quoted.join(', ')}`;
  return z.enum(values, { error: `expected ${list}` });
}

/** An address a listener binds: an IP literal or `localhost`. */
export const bindHost = () =>
  z.string({ error: kBindHost }).refine(isBindHost, { error: kBindHost });

/** A route host: exact hostname, '*.suffix' or '*'; lower-cased. */
export const hostPattern = () => z.string({ error: kHostPattern }).toLowerCase()
  .refine(isHostPattern, { error: kHostPattern });

/** A TLS server name (SNI): a DNS hostname, lower-cased. */
export const serverName = () => z.string({ error: kServerName }).toLowerCase()
  .refine((name) => isHostname(name) && !/^[0-9.]+$/.test(name), { error: kServerName });

/** An IPv4/IPv6 address or CIDR block of a trusted proxy. */
export const cidr = () => z.string({ error: kCIDR }).refine(isAddressOrCIDR, { error: kCIDR });

/** An upstream address: 'host:port', '[v6]:port' or 'https://host:port'. */
export const upstreamAddress = () => z.string({ error: kAddress })
  .refine((text) => parseUpstreamAddress(text) !== undefined, { error: kAddress });

/** A route path prefix (see `pathPrefixProblem` for the rules). */
export const pathPrefix = () => z.string({ error: 'expected a path prefix starting with "/"' })
  .superRefine((prefix, ctx) => {
    const problem = pathPrefixProblem(prefix);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** An HTTP header name, lower-cased. */
export const headerName = () => z.string({ error: kHeader }).toLowerCase()
  .refine(isHeaderName, { error: kHeader });

/**
 * A file the proxy reads at start-up (certificate, key, CA bundle). Relative paths are
 * resolved against the config file's directory; the output is the absolute path, and the file
 * must exist and be readable now, so a typo fails at load time rather than at first connect.
 */
export function readableFile(ctx: SchemaContext) {
  return z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' })
    .transform(async (path, zctx) => {
      const absolute = resolve(ctx.baseDir, path);
      try {
        await access(absolute, constants.R_OK);
        if ((await stat(absolute)).isFile()) return absolute;
        zctx.addIssue(customIssue(`expected a regular file: ${JSON.stringify(absolute)}`));
      } catch (err) {
        const why = errnoCode(err);
        zctx.addIssue(customIssue(`cannot read file ${JSON.stringify(absolute)} (${why})`));
      }
      return z.NEVER;
    });
}

/**
 * A secret reference, `{ env: NAME }` or `{ file: PATH }`, resolved to a `SecretValue`.
 * Plain strings are refused without echoing them.
 */
export function secret(ctx: SchemaContext) {
  return z.unknown().transform(async (raw, zctx): Promise<SecretValue> => {
    const ref = parseSecretRef(raw);
    if (!ref.ok) {
      zctx.addIssue(customIssue(ref.message));
      return z.NEVER;
    }

    const resolved = await resolveSecret(ref.value, ctx.baseDir, ctx.env);
    if (resolved.ok) return resolved.value;
    zctx.addIssue(customIssue(resolved.message, [], true));
    return z.NEVER;
  });
}

/**
 * A custom issue whose message already says what was found (printed as it is). `path` is
 * relative to the schema the issue is raised in; `isSecret` marks an unresolved secret.
 */
export function customIssue(message: string, path: PropertyKey[] = [], isSecret = false) {
  return { code: 'custom' as const, message, path, params: { isComplete: true, isSecret } };
}
