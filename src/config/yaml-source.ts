/**
 * The YAML side of loading: parse the text, report what YAML itself finds wrong (syntax,
 * duplicate keys, unresolved tags, an empty file, a top level that is not a mapping), and map
 * a field path back to a line and column for the schema's diagnostics.
 */
import {
  type Node, LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument,
} from 'yaml';
import { type ConfigDiagnostic, fieldPath } from './diagnostics.js';

/** Anchors may be reused at most this often in total (YAML "billion laughs" bound). */
const kMaxAliasCount = 100;

/** A parsed config file, kept for locating diagnostics. */
export interface YamlSource {
  readonly file: string;
  readonly doc: ReturnType<typeof parseDocument>;
  readonly lines: LineCounter;
}

/** Where a field is: its own position when it is written, else its nearest written parent's. */
export interface FieldLocation {
  readonly line: number;
  readonly column: number;
  /** The written value (scalars as parsed, mappings as {}, lists as their items); absent if not
   * written. Only for showing what was found. */
  readonly found?: { readonly value: unknown };
}

/** The outcome of `parseYamlSource`. */
export type YamlOutcome =
  { readonly ok: true; readonly source: YamlSource; readonly value: Record<string, unknown> } |
  { readonly ok: false; readonly diagnostics: ConfigDiagnostic[] };

/**
 * Parses `text` (from `file`, used in diagnostics) as one YAML 1.2 document whose top level
 * is a mapping, and returns its plain value; or every YAML-level problem found.
 */
export function parseYamlSource(text: string, file: string): YamlOutcome {
  const lines = new LineCounter();
  // Duplicate keys are found below instead of by the parser, so their diagnostic names the field.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const source: YamlSource = { file, doc, lines };
  const at = (offset: number, field: string, message: string): ConfigDiagnostic =>
    ({ file, ...position(source, offset), field, message });

  // 1. syntax errors, then warnings such as unresolved tags (also fatal: the value is unclear)
  const problems = [...doc.errors, ...doc.warnings]
    .map((e) => at(e.pos[0], '', `invalid YAML: ${e.message}`));
  if (doc.errors.length === 0) collectDuplicateKeys(source, doc.contents, [], problems);
  if (problems.length > 0) return { ok: false, diagnostics: problems };

  // 2. the top level must be a mapping
  const top = doc.contents;
  if (top === null) {
    const message = 'expected a mapping with at least a "services" list, got an empty file';
    return { ok: false, diagnostics: [{ file, line: 1, column: 1, field: '', message }] };
  }
  if (!isMap(top)) {
    const kind = isSeq(top) ? 'a list' : 'a single value';
    const message = `expected a mapping at the top level, got ${kind}`;
    return { ok: false, diagnostics: [at(top.range?.[0] ?? 0, '', message)] };
  }

  // 3. the plain value (aliases expanded, with a bound on their count)
  try {
    const value = doc.toJS({ maxAliasCount: kMaxAliasCount }) as Record<string, unknown>;
    return { ok: true, source, value };
  } catch (err) {
    const message = `invalid YAML: ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, diagnostics: [at(0, '', message)] };
  }
}

/** Finds the line and column of `path`, falling back to the nearest written parent. */
export function locateField(source: YamlSource, path: readonly PropertyKey[]): FieldLocation {
  let node: unknown = source.doc.contents;
  let anchor = node;
  for (const segment of path) {
    const child = childOf(node, segment);
    if (child === undefined) return { ...position(source, rangeStart(anchor)) };
    // An empty value (`key:`) has a zero-width range just past the colon; point at the key.
    const isEmpty = isScalar(child.value) && child.value.range?.[0] === child.value.range?.[1];
    anchor = isEmpty || child.value === null ? child.key : child.value;
    node = child.value;
  }

  const located = position(source, rangeStart(anchor));
  if (isScalar(node)) return { ...located, found: { value: node.value } };
  if (isMap(node)) return { ...located, found: { value: {} } };
  if (isSeq(node)) return { ...located, found: { value: node.items } };
  return located;
}

/** Finds the line and column of the key `key` in the mapping at `path`. */
export function locateKey(source: YamlSource, path: readonly PropertyKey[],
  key: string): FieldLocation {
  let node: unknown = source.doc.contents;
  for (const segment of path) node = childOf(node, segment)?.value;
  const pair = isMap(node) ? node.items.find((p) => keyText(p.key) === key) : undefined;
  if (pair === undefined) return locateField(source, path);
  return position(source, rangeStart(pair.key));
}

interface Child {
  readonly key: unknown;
  readonly value: unknown;
}

function childOf(node: unknown, segment: PropertyKey): Child | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => keyText(p.key) === String(segment));
    return pair === undefined ? undefined : { key: pair.key, value: pair.value };
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item: unknown = node.items[segment];
    return item === undefined ? undefined : { key: item, value: item };
  }
  return undefined;
}

function collectDuplicateKeys(source: YamlSource, node: unknown, path: PropertyKey[],
  out: ConfigDiagnostic[]): void {
  if (isSeq(node)) {
    node.items.forEach((item, i) => collectDuplicateKeys(source, item, [...path, i], out));
    return;
  }
  if (!isMap(node)) return;

  const firstLine = new Map<string, number>();
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const key = keyText(pair.key);
    const line = position(source, rangeStart(pair.key)).line;
    const seen = firstLine.get(key);
    if (seen === undefined) {
      firstLine.set(key, line);
      collectDuplicateKeys(source, pair.value, [...path, key], out);
      continue;
    }
    const field = fieldPath([...path, key]);
    const message = `duplicate key "${key}" (first written on line ${seen})`;
    out.push({ file: source.file, ...position(source, rangeStart(pair.key)), field, message });
  }
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  if (isAlias(key)) return `*${key.source}`;
  return String(key);
}

function rangeStart(node: unknown): number {
  const range = (node as Node | null)?.range;
  return Array.isArray(range) ? range[0] : 0;
}

function position(source: YamlSource, offset: number): { line: number; column: number } {
  const { line, col } = source.lines.linePos(offset);
  return { line, column: col };
}
