/**
 * Compiler diagnostics: numeric codes grouped by hundreds (1xx parse, 2xx check, 3xx lowering),
 * each with a source position. Codes are permanent, like the proxy's error codes: never reuse one.
 */
import type { SourcePos } from './model.js';

/** Every diagnostic the compiler can report, by number. */
export const kDiagnosticCodes = {
  // 1xx: reading and parsing the sources
  100: 'invalid YAML',
  101: 'wrong shape (expected a mapping, a list or a scalar here)',
  102: 'unknown key',
  103: 'missing required key',
  104: 'invalid value',
  105: 'invalid path pattern syntax',
  106: 'invalid CIDR range',
  107: 'invalid time or date',
  108: 'policy version declared more than once, or not at all',
  109: 'no policy files, or a file could not be read',
  // 2xx: checking what was parsed
  200: 'reference to an undefined role',
  201: 'cycle in role inheritance',
  202: 'duplicate rule id',
  203: 'condition names a path parameter no pattern of the rule binds',
  204: 'path pattern cannot match any canonical path',
  205: 'rule is shadowed by an earlier or overriding rule and never decides',
  206: 'duplicate role',
  207: 'obligation header is not a valid or allowed header',
  208: 'condition reads a credential or identity header',
  // 3xx: lowering to the decision tree
  300: 'too many attributes referenced by conditions',
  301: 'too many roles',
  302: 'decision tree too large',
} as const;

export type DiagnosticCode = keyof typeof kDiagnosticCodes;

/** One compiler finding. Errors stop the build; warnings are reported and the bundle is built. */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: 'error' | 'warning';
  readonly pos: SourcePos;
  readonly message: string;
}

/** Collects diagnostics in the order found. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];

  error(code: DiagnosticCode, pos: SourcePos, message: string): void {
    this.list.push({ code, severity: 'error', pos, message });
  }

  warning(code: DiagnosticCode, pos: SourcePos, message: string): void {
    this.list.push({ code, severity: 'warning', pos, message });
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === 'error');
  }
}

/** `file:line:column: error PC204: message`, the form editors and CI logs recognise. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.pos.file}:${d.pos.line}:${d.pos.column}: ${d.severity} PC${d.code}: ${d.message}`;
}

/** Thrown by `compilePolicy` when any error was found; carries every diagnostic (warnings too). */
export class PolicyCompileError extends Error {
  override readonly name = 'PolicyCompileError';
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(`policy has ${errors.length} error(s): ${errors.slice(0, 3).map(formatDiagnostic)
      .join('; ')}`);
    this.diagnostics = diagnostics;
  }
}
