/**
 * The embedded default config, used by `portcullis serve` without `--config`: the proxy on
 * 127.0.0.1:8080, the admin API on 127.0.0.1:9901 and the built-in demo upstream on
 * 127.0.0.1:8081, with two routes to the demo. Nothing else is routed, so '/' answers 404.
 * It goes through the same schema as a file, so it can never drift from the rules.
 */
import { ConfigLoadError, fieldPath } from './diagnostics.js';
import { freezeConfig } from './load.js';
import { type Config, type ConfigInput, buildConfigSchema } from './schema.js';

/** The label the embedded default carries in diagnostics and `check-config` output. */
export const kEmbeddedDefaultLabel = '<embedded default>';

/** Port overrides for the embedded default (tests pass free ports; 0 lets the OS choose). */
export interface EmbeddedDefaultOverrides {
  readonly proxyPort?: number;
  readonly adminPort?: number;
  /** The demo upstream's port; the routes point at it, so it must be from 1 to 65535. */
  readonly demoPort?: number;
}

/** The embedded default as it would be written in a file, before defaults are applied. */
export function embeddedDefaultInput(overrides: EmbeddedDefaultOverrides = {}): ConfigInput {
  const demoPort = overrides.demoPort ?? 8081;
  const demoUpstream = { addresses: [`127.0.0.1:${demoPort}`] };
  return {
    listeners: {
      proxy: { host: '127.0.0.1', port: overrides.proxyPort ?? 8080 },
      admin: { host: '127.0.0.1', port: overrides.adminPort ?? 9901 },
    },
    demo: { enabled: true, port: demoPort },
    services: [
      {
        name: 'demo-public',
        hosts: ['*'],
        pathPrefix: '/public',
        stripPrefix: false,
        access: 'public',
        upstream: demoUpstream,
      },
      {
        // Needs a bearer token: `portcullis serve` adds a demo issuer and prints a token for it.
        name: 'demo-private',
        hosts: ['*'],
        pathPrefix: '/private',
        stripPrefix: false,
        access: 'authenticated',
        upstream: demoUpstream,
      },
    ],
  };
}

/**
 * The embedded default config, validated and frozen. Throws `ConfigLoadError`
 * (IAM_CONFIG_INVALID) when an override is out of range, e.g. a demo port of 0.
 */
export function embeddedDefaultConfig(overrides: EmbeddedDefaultOverrides = {}): Config {
  // The default holds no secret and no TLS file, so the schema's async steps never run and a
  // synchronous parse is safe.
  const schema = buildConfigSchema({ baseDir: process.cwd(), env: {} });
  const result = schema.safeParse(embeddedDefaultInput(overrides));
  if (result.success) return freezeConfig(result.data);

  const diagnostics = result.error.issues.map((issue) => ({
    file: kEmbeddedDefaultLabel,
    line: 0,
    column: 0,
    field: fieldPath(issue.path),
    message: issue.message,
  }));
  throw new ConfigLoadError('IAM_CONFIG_INVALID', diagnostics);
}
