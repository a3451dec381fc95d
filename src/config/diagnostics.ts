/**
 * Config diagnostics: one per problem, each naming the file, the line and column, the field
 * and what was expected versus found; and the error that carries all of them.
 */
import { PortcullisError } from '../errors/index.js';

const kBrand = Symbol.for('portcullis.config-load-error');
const kMaxShownChars = 60;

/** One problem found in a config file. */
export interface ConfigDiagnostic {
  /** The file as the operator named it (or a label such as '<embedded default>'). */
  readonly file: string;
  /** 1-based line; 0 when the problem has no position (the file could not be read). */
  readonly line: number;
  /** 1-based column; 0 when `line` is 0. */
  readonly column: number;
  /** Dotted path such as `services[1].upstream.addresses[0]`; '' for the file as a whole. */
  readonly field: string;
  /** What was expected and what was found, e.g. `expected a positive integer, got -5`. */
  readonly message: string;
}

/** The config codes a `ConfigLoadError` can carry. */
export type ConfigErrorCode =
  'IAM_CONFIG_INVALID' | 'IAM_CONFIG_UNREADABLE' | 'IAM_CONFIG_SECRET_UNRESOLVED';

/**
 * Renders one diagnostic as `file:line:column: field: message`, the format editors and CI
 * annotations understand. Position and field are left out when they are absent.
 */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  return d.field === '' ? `${where}: ${d.message}` : `${where}: ${d.field}: ${d.message}`;
}

/**
 * Thrown by the loaders with every problem found, not just the first. `code` is
 * IAM_CONFIG_UNREADABLE (the file could not be read), IAM_CONFIG_SECRET_UNRESOLVED (the file is
 * valid but some secret reference could not be resolved) or IAM_CONFIG_INVALID (anything else).
 */
export class ConfigLoadError extends PortcullisError {
  readonly diagnostics: readonly ConfigDiagnostic[];

  constructor(code: ConfigErrorCode, diagnostics: readonly ConfigDiagnostic[]) {
    const count = diagnostics.length === 1 ? '1 problem' : `${diagnostics.length} problems`;
    super(code, `${count}:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
    this.name = 'ConfigLoadError';
    this.diagnostics = Object.freeze([...diagnostics]);
  }

  // PortcullisError's brand check is static and would be inherited: every PortcullisError
  // would pass `instanceof ConfigLoadError`. This class carries a brand of its own.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null &&
      (value as Record<symbol, unknown>)[kBrand] === true;
  }
}

Object.defineProperty(ConfigLoadError.prototype, kBrand, { value: true });

/** `['services', 1, 'name']` becomes `services[1].name`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/**
 * Shows a found value the way it would be written in YAML: strings quoted, long ones cut,
 * mappings and lists named rather than dumped.
 */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value !== 'string') return String(value);

  const text = value.length > kMaxShownChars ? `${value.slice(0, kMaxShownChars)}...` : value;
  return JSON.stringify(text);
}
