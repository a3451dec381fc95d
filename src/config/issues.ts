/**
 * Turns schema issues into diagnostics: each issue's field path is looked up in the YAML to get
 * a line and column, and its 'expected ...' phrase gets the value actually written appended.
 */
import { type z } from 'zod';
import { type ConfigDiagnostic, fieldPath, showValue } from './diagnostics.js';
import { closestKey, knownKeysAt } from './key-suggestion.js';
import { type FieldLocation, type YamlSource, locateField, locateKey } from './yaml-source.js';

/** Diagnostics for a failed parse, sorted by position, and whether any is not about a secret. */
export interface MappedIssues {
  readonly diagnostics: ConfigDiagnostic[];
  /** True when every diagnostic is an unresolved secret (so the file itself is valid). */
  readonly isOnlySecrets: boolean;
}

/** Maps every issue of a failed parse of `schema` over `source`. */
export function mapIssues(issues: readonly z.core.$ZodIssue[], source: YamlSource,
  schema: z.core.$ZodType): MappedIssues {
  const diagnostics: ConfigDiagnostic[] = [];
  let isOnlySecrets = true;

  for (const issue of issues) {
    const params = issue.code === 'custom' ? issue.params : undefined;
    if (params?.['isSecret'] !== true) isOnlySecrets = false;

    // Unknown keys: one diagnostic per key, at the key, with a suggestion when one is close.
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const guess = closestKey(key, known);
        const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
        const { line, column } = locateKey(source, issue.path, key);
        const field = fieldPath([...issue.path, key]);
        const message = `unknown key "${key}"${hint}`;
        diagnostics.push({ file: source.file, line, column, field, message });
      }
      continue;
    }

    const { line, column, found } = locateField(source, issue.path);
    const message = params?.['isComplete'] === true ? issue.message : withFound(issue, found);
    diagnostics.push({ file: source.file, line, column, field: fieldPath(issue.path), message });
  }

  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return { diagnostics, isOnlySecrets };
}

/** `expected X` becomes `expected X, got <what was written>`. */
function withFound(issue: z.core.$ZodIssue, found: FieldLocation['found']): string {
  // What was written wins over `issue.input`: checks such as toLowerCase() rewrite the input.
  if (found !== undefined) return `${issue.message}, got ${showValue(found.value)}`;
  if (issue.input !== undefined) return `${issue.message}, got ${showValue(issue.input)}`;
  return `${issue.message}, got nothing (the key is required)`;
}
