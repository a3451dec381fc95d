/**
 * The `audit` block (decision records: sink, queue, redaction, live feed, session table) and the
 * `revocation` block (where revocations live). Field reference: README.md configuration table;
 * behaviour: src/audit/README.md.
 */
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import {
  type SchemaContext, customIssue, enumField, intField, mapping, nonNegativeInt, positiveInt,
  secret,
} from './schema-fields.js';

const kClaimName = 'expected a claim name (1 to 128 characters)';
const kRedisUrl = 'expected a redis:// or rediss:// URL without a password (give it as password)';

/** A claim name as written in tokens. */
const claimName = () => z.string({ error: kClaimName }).min(1, { error: kClaimName })
  .max(128, { error: kClaimName });

/**
 * A file the proxy will write: relative to the config file's directory, made absolute; its
 * directory must exist and be writable now, so a typo fails at load time.
 */
function writableFilePath(ctx: SchemaContext) {
  return z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' })
    .transform(async (path, zctx) => {
      const absolute = resolve(ctx.baseDir, path);
      try {
        await access(dirname(absolute), constants.W_OK);
        return absolute;
      } catch {
        zctx.addIssue(customIssue(`cannot write in directory ${JSON.stringify(dirname(absolute))}`));
        return z.NEVER;
      }
    });
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.password === ''
      && url.hostname !== '';
  } catch {
    return false;
  }
}

/** `audit`: every request's record, and what is built from it. */
export function auditSchema(ctx: SchemaContext) {
  return mapping({
    sink: enumField(['stdout', 'file', 'none']).default('stdout'),
    file: mapping({
      path: writableFilePath(ctx).optional(),
      maxFileBytes: nonNegativeInt().default(100 * 1024 * 1024),
      maxFileAgeSec: nonNegativeInt().default(86400),
      maxFiles: nonNegativeInt().default(10),
    }).prefault({}),
    queue: mapping({
      maxRecords: intField(1, 10_000_000, 'expected an integer from 1 to 10000000')
        .default(65536),
      batchMaxRecords: intField(1, 100_000, 'expected an integer from 1 to 100000').default(1024),
      flushIntervalMs: intField(1, 60_000, 'expected an integer from 1 to 60000').default(50),
      overload: enumField(['shed', 'drop']).default('shed'),
    }).prefault({}),
    claims: z.array(claimName(), { error: 'expected a list of claim names' }).max(32)
      .default([]),
    redact: z.array(claimName(), { error: 'expected a list of claim names' }).default([]),
    feed: mapping({
      maxSubscribers: intField(0, 1000, 'expected an integer from 0 to 1000').default(16),
      maxBufferedBytes: positiveInt().default(1048576),
      slowCloseAfterMs: positiveInt().default(10000),
    }).prefault({}),
    sessions: mapping({
      maxEntries: intField(0, 10_000_000, 'expected an integer from 0 to 10000000')
        .default(10000),
      idleTimeoutSec: positiveInt().default(3600),
    }).prefault({}),
  });
}

/** `revocation`: in this process, or shared through Redis. */
export function revocationSchema(ctx: SchemaContext) {
  return mapping({
    store: enumField(['memory', 'redis']).default('memory'),
    redis: mapping({
      url: z.string({ error: kRedisUrl }).refine(isRedisUrl, { error: kRedisUrl }),
      password: secret(ctx).optional(),
      keyPrefix: z.string({ error: 'expected a key prefix' }).max(64).default('portcullis:'),
      connectTimeoutMs: positiveInt().default(2000),
      resyncIntervalMs: intField(100, 3_600_000, 'expected an integer from 100 to 3600000')
        .default(30000),
    }).optional(),
    defaultTtlSec: intField(1, 31_536_000, 'expected an integer from 1 to 31536000')
      .default(86400),
    maxEntries: intField(1, 10_000_000, 'expected an integer from 1 to 10000000')
      .default(100000),
  }).superRefine((value, zctx) => {
    if (value.store === 'redis' && value.redis === undefined) {
      zctx.addIssue(customIssue('expected a redis block (url) for store "redis"', ['redis']));
    }
  });
}
