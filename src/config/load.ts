/**
 * Loading a config: read the file, parse the YAML, validate it against the schema (applying
 * defaults and resolving secrets), and turn every problem into a positioned diagnostic. Runs
 * once at start-up (and for `portcullis check-config`), never on the request path.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigLoadError } from './diagnostics.js';
import { mapIssues } from './issues.js';
import { type Config, buildConfigSchema } from './schema.js';
import { SecretValue } from './secret-value.js';
import { errnoCode } from './secrets.js';
import { parseYamlSource } from './yaml-source.js';

/** A config file larger than this is refused unread: no sane config comes close. */
const kMaxConfigBytes = 1024 * 1024;

/**
 * Loads the config file at `path`. Relative paths inside it (TLS files, secret files) are taken
 * from the file's directory; `{ env: NAME }` secrets are read from `env`.
 *
 * Throws `ConfigLoadError` with every problem found: IAM_CONFIG_UNREADABLE when the file cannot
 * be read, IAM_CONFIG_INVALID when it is not a valid config, IAM_CONFIG_SECRET_UNRESOLVED when
 * it is valid but a secret cannot be resolved.
 */
export async function loadConfigFile(path: string,
  env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const text = await readConfigText(path);
  return loadConfigText(text, path, dirname(resolve(path)), env);
}

/**
 * Loads config `text`. `fileLabel` names it in diagnostics; `baseDir` is where relative paths
 * start. Throws `ConfigLoadError` (IAM_CONFIG_INVALID or IAM_CONFIG_SECRET_UNRESOLVED) with
 * every problem found. The returned config is deeply frozen.
 */
export async function loadConfigText(text: string, fileLabel: string, baseDir: string,
  env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  // 1. YAML: syntax, duplicate keys, top-level shape
  const parsed = parseYamlSource(text, fileLabel);
  if (!parsed.ok) throw new ConfigLoadError('IAM_CONFIG_INVALID', parsed.diagnostics);

  // 2. schema: types, ranges, defaults, cross-field rules, secrets and file paths
  const schema = buildConfigSchema({ baseDir, env });
  const result = await schema.safeParseAsync(parsed.value, { reportInput: true });
  if (result.success) return freezeConfig(result.data);

  // 3. every issue, positioned
  const { diagnostics, isOnlySecrets } = mapIssues(result.error.issues, parsed.source, schema);
  const code = isOnlySecrets ? 'IAM_CONFIG_SECRET_UNRESOLVED' : 'IAM_CONFIG_INVALID';
  throw new ConfigLoadError(code, diagnostics);
}

/** Freezes a validated config all the way down, so no module can change it after start-up. */
export function freezeConfig<T>(value: T): T {
  if (typeof value !== 'object' || value === null || value instanceof SecretValue) return value;
  for (const child of Object.values(value)) freezeConfig(child);
  return Object.freeze(value);
}

async function readConfigText(path: string): Promise<string> {
  let problem: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      problem = 'expected a regular file';
    } else if (info.size > kMaxConfigBytes) {
      problem = `expected a file of at most ${kMaxConfigBytes} bytes, got ${info.size}`;
    } else {
      return await readFile(path, 'utf8');
    }
  } catch (err) {
    problem = `cannot read the file (${errnoCode(err)})`;
  }
  const diagnostic = { file: path, line: 0, column: 0, field: '', message: problem };
  throw new ConfigLoadError('IAM_CONFIG_UNREADABLE', [diagnostic]);
}
