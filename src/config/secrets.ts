/**
 * Secret references. A secret is never written inline in the config: it is either
 * `{ env: NAME }` (a non-empty environment variable) or `{ file: PATH }` (a file's contents,
 * trailing newlines trimmed, relative paths taken from the config file's directory). Resolution
 * runs once at start-up and yields a `SecretValue`.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SecretValue } from './secret-value.js';

/** Largest secret file accepted, so that pointing at a log or a device fails fast. */
const kMaxSecretFileBytes = 64 * 1024;
const kEnvName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const kExpected = 'expected { env: NAME } or { file: PATH }';

/** A validated secret reference, before resolution. */
export type SecretRef = { readonly env: string } | { readonly file: string };

/** The outcome of a parse or resolution step: a value, or an 'expected ..., got ...' message. */
export type SecretStep<T> = { readonly ok: true; readonly value: T } |
  { readonly ok: false; readonly message: string };

/**
 * Checks the shape of a secret reference as written in the YAML. The messages never echo a
 * plain-string value: it would be the secret itself.
 */
export function parseSecretRef(raw: unknown): SecretStep<SecretRef> {
  if (typeof raw === 'string') {
    return fail(`${kExpected}, got a plain string (secrets are never written inline)`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(`${kExpected}, got ${kindOf(raw)}`);
  }

  const keys = Object.keys(raw);
  if (keys.length !== 1 || (keys[0] !== 'env' && keys[0] !== 'file')) {
    const found = keys.length === 0 ? 'an empty mapping' : `keys ${keys.join(', ')}`;
    return fail(`${kExpected} with exactly one key, got ${found}`);
  }

  const value: unknown = (raw as Record<string, unknown>)[keys[0]];
  if (keys[0] === 'env') {
    if (typeof value === 'string' && kEnvName.test(value)) {
      return { ok: true, value: { env: value } };
    }
    return fail(`expected an environment variable name ([A-Za-z0-9_]), got ${kindOf(value)}`);
  }
  if (typeof value === 'string' && value.length > 0) return { ok: true, value: { file: value } };
  return fail(`expected a file path after file:, got ${kindOf(value)}`);
}

/**
 * Resolves a reference against `env` and `baseDir`. Fails (with a message naming the variable
 * or the absolute path, never the secret) when the variable is unset or empty, or the file is
 * missing, unreadable, not a regular file, larger than 64 KiB or empty after trimming.
 */
export async function resolveSecret(ref: SecretRef, baseDir: string,
  env: NodeJS.ProcessEnv): Promise<SecretStep<SecretValue>> {
  if ('env' in ref) {
    const text = env[ref.env];
    if (text === undefined) return fail(`environment variable ${ref.env} is not set`);
    if (text === '') return fail(`environment variable ${ref.env} is empty`);
    return { ok: true, value: new SecretValue(text) };
  }

  const path = resolve(baseDir, ref.file);
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) return fail(`secret file ${JSON.stringify(path)} is not a regular file`);
    if (info.size > kMaxSecretFileBytes) {
      return fail(`secret file ${JSON.stringify(path)} is over ${kMaxSecretFileBytes} bytes`);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    return fail(`cannot read secret file ${JSON.stringify(path)} (${errnoCode(err)})`);
  }

  // Editors and `echo` add a final newline that is never part of the secret.
  const trimmed = text.replace(/[\r\n]+$/, '');
  if (trimmed === '') return fail(`secret file ${JSON.stringify(path)} is empty`);
  return { ok: true, value: new SecretValue(trimmed) };
}

/** The `code` of a Node.js system error (ENOENT, EACCES, ...), or 'error'. */
export function errnoCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return `a ${typeof value}`;
}

function fail(message: string): { readonly ok: false; readonly message: string } {
  return { ok: false, message };
}
