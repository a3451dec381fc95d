/**
 * The `policy` block: where signed bundles come from and which keys may sign them. Optional:
 * without it the proxy compiles a policy from each service's `access` at start-up and signs it
 * with a key made for that process (README, "Policy"). With it, `access` is not allowed: the
 * policy decides every request.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  type SchemaContext, boolField, customIssue, intField, mapping, readableFile,
} from './schema-fields.js';
import { isHttpUrl } from './syntax.js';

const kUrl = 'expected an absolute http(s) URL';

/** A path that need not exist yet, resolved against the config file's folder. */
function futurePath(ctx: SchemaContext) {
  return z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' })
    .transform((path) => resolve(ctx.baseDir, path));
}

/** Builds the `policy` block. */
export function policySchema(ctx: SchemaContext) {
  return mapping({
    publicKeys: z.array(readableFile(ctx), { error: 'expected a list of PEM public key files' })
      .min(1, { error: 'expected at least one public key that signs bundles' }),
    file: futurePath(ctx).optional(),
    signatureFile: futurePath(ctx).optional(),
    url: z.string({ error: kUrl }).refine(isHttpUrl, { error: kUrl }).optional(),
    signatureUrl: z.string({ error: kUrl }).refine(isHttpUrl, { error: kUrl }).optional(),
    pollIntervalMs: intField(100, 86_400_000, 'expected milliseconds from 100 to 86400000')
      .default(5000),
    maxBackoffMs: intField(100, 86_400_000, 'expected milliseconds from 100 to 86400000')
      .default(60_000),
    allowPush: boolField().default(false),
  });
}

type Ctx = { addIssue(issue: ReturnType<typeof customIssue>): void };

/** Cross-field rules of the policy block. */
export function checkPolicyBlock(config: unknown, ctx: Ctx): void {
  const root = config as Record<string, unknown> | undefined;
  const policy = root?.['policy'] as Record<string, unknown> | undefined;
  const services = Array.isArray(root?.['services']) ? root!['services'] as unknown[] : [];
  if (policy === undefined) {
    services.forEach((svc, i) => {
      if ((svc as Record<string, unknown> | undefined)?.['access'] === undefined) {
        ctx.addIssue(customIssue('expected public or authenticated (or a top-level policy block)',
          ['services', i, 'access']));
      }
    });
    return;
  }
  services.forEach((svc, i) => {
    if ((svc as Record<string, unknown> | undefined)?.['access'] !== undefined) {
      ctx.addIssue(customIssue('access is replaced by the policy block: remove it',
        ['services', i, 'access']));
    }
  });
  if (policy['file'] === undefined && policy['url'] === undefined && policy['allowPush'] !== true) {
    ctx.addIssue(customIssue('expected a bundle source: file, url or allowPush: true', ['policy']));
  }
  if (policy['signatureFile'] !== undefined && policy['file'] === undefined) {
    ctx.addIssue(customIssue('signatureFile needs file', ['policy', 'signatureFile']));
  }
  if (policy['signatureUrl'] !== undefined && policy['url'] === undefined) {
    ctx.addIssue(customIssue('signatureUrl needs url', ['policy', 'signatureUrl']));
  }
  const admin = root?.['admin'] as Record<string, unknown> | undefined;
  if (policy['allowPush'] === true && admin?.['token'] === undefined) {
    ctx.addIssue(customIssue('allowPush needs admin.token: pushes are authenticated with it',
      ['policy', 'allowPush']));
  }
}
