/**
 * Renders the effective config (defaults applied, paths absolute) as YAML for
 * `portcullis check-config` and the start-up log. Every secret is shown as '[redacted]'.
 */
import { stringify } from 'yaml';
import { type Config } from './schema.js';

const kHeader = '# Effective configuration: defaults applied, secrets redacted.\n';

/**
 * Returns the YAML text of `cfg`. Secrets go through `SecretValue.toJSON()`, which never
 * reveals them, so the output is safe to print and to log. The text is not meant to be loaded
 * back: a redacted secret is not a valid secret reference.
 */
export function describeConfig(cfg: Config): string {
  // JSON first: it calls toJSON() on every SecretValue and leaves only plain data behind.
  const plain: unknown = JSON.parse(JSON.stringify(cfg));
  return kHeader + stringify(plain, { lineWidth: 0 });
}
