/**
 * Typed reads from a YAML node tree with positions, reporting 1xx diagnostics on anything that is
 * not of the expected shape. The parser (`parse.ts`) walks policy files with it, so that every
 * diagnostic names the file, line and column of the value at fault.
 */
import type { DiagnosticSink } from './diagnostics.js';
import type { SourcePos } from './model.js';
import type { LineIndex, YamlMap, YamlNode, YamlScalar, YamlSeq } from './yaml-tree.js';

/** A node of a policy file (yaml-tree.ts); null where the file has nothing. */
export type Node = YamlNode;

/** A mapping's entries by key, each with its value node (a null scalar for `key:`). */
export type MapEntries = Map<string, { readonly keyNode: Node; readonly value: Node | null }>;

/** Whether `node` is a mapping. */
export function isMap(node: Node | null | undefined): node is YamlMap {
  return node?.kind === 'map';
}

/** Whether `node` is a scalar (string, number, boolean or null). */
export function isScalar(node: Node | null | undefined): node is YamlScalar {
  return node?.kind === 'scalar';
}

/** Whether `node` is a list. */
export function isSeq(node: Node | null | undefined): node is YamlSeq {
  return node?.kind === 'seq';
}

/** Reads one file's nodes. Every method reports its own diagnostic and returns undefined. */
export class YamlReader {
  readonly file: string;
  readonly #lines: LineIndex;
  readonly #sink: DiagnosticSink;

  constructor(file: string, lines: LineIndex, sink: DiagnosticSink) {
    this.file = file;
    this.#lines = lines;
    this.#sink = sink;
  }

  /** The position of `node` (the file start when it has none). */
  pos(node: Node | null | undefined): SourcePos {
    const offset = node?.offset ?? 0;
    const { line, col } = this.#lines.at(offset);
    return { file: this.file, line, column: col };
  }

  /** Reports a diagnostic at `node`. */
  error(code: Parameters<DiagnosticSink['error']>[0], node: Node | null | undefined,
    message: string): void {
    this.#sink.error(code, this.pos(node), message);
  }

  /** A mapping with string keys, each key among `allowed` (undefined allows any key). */
  map(input: Node | null, what: string, allowed?: readonly string[]): MapEntries | undefined {
    const node = input;
    if (!isMap(node)) {
      this.error(101, node, `${what}: expected a mapping`);
      return undefined;
    }
    const entries: MapEntries = new Map();
    for (const pair of node.pairs) {
      const keyNode = pair.key;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        this.error(101, keyNode, `${what}: keys must be strings`);
        continue;
      }
      const key = keyNode.value;
      if (allowed !== undefined && !allowed.includes(key)) {
        this.error(102, keyNode, `${what}: unknown key "${key}" (expected one of ${allowed.join(', ')})`);
        continue;
      }
      if (entries.has(key)) {
        this.error(102, keyNode, `${what}: key "${key}" appears twice`);
        continue;
      }
      entries.set(key, { keyNode, value: pair.value });
    }
    return entries;
  }

  /** The items of a list. */
  list(input: Node | null, what: string): Node[] | undefined {
    const node = input;
    if (!isSeq(node)) {
      this.error(101, node, `${what}: expected a list`);
      return undefined;
    }
    return [...node.items];
  }

  /** A string scalar (quoted or plain, but a string: `42` or `true` must be quoted). */
  string(input: Node | null, what: string): string | undefined {
    const node = input;
    if (!isScalar(node) || typeof node.value !== 'string') {
      this.error(101, node, `${what}: expected a string (quote numbers and booleans)`);
      return undefined;
    }
    return node.value;
  }

  /** A non-empty list of strings, each checked against `pattern` when given. */
  strings(input: Node | null, what: string, pattern?: RegExp, hint?: string): string[] | undefined {
    const node = input;
    const items = this.list(node, what);
    if (items === undefined) return undefined;
    if (items.length === 0) {
      this.error(104, node, `${what}: expected at least one value`);
      return undefined;
    }
    const out: string[] = [];
    for (const item of items) {
      const value = this.string(item, what);
      if (value === undefined) return undefined;
      if (pattern !== undefined && !pattern.test(value)) {
        this.error(104, item, `${what}: ${JSON.stringify(value)} is not ${hint ?? 'valid'}`);
        return undefined;
      }
      out.push(value);
    }
    return out;
  }

  /** An integer scalar within [min, max]. */
  integer(input: Node | null, what: string, min: number, max: number): number | undefined {
    const node = input;
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)
      || node.value < min || node.value > max) {
      this.error(104, node, `${what}: expected an integer from ${min} to ${max}`);
      return undefined;
    }
    return node.value;
  }

  /** `true` or `false`. */
  boolean(input: Node | null, what: string): boolean | undefined {
    const node = input;
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      this.error(101, node, `${what}: expected true or false`);
      return undefined;
    }
    return node.value;
  }

  /** Reports 103 for each `required` key that `entries` lacks; true when none is missing. */
  requires(entries: MapEntries, node: Node | null, what: string,
    required: readonly string[]): boolean {
    let ok = true;
    for (const key of required) {
      if (entries.has(key)) continue;
      this.error(103, node, `${what}: missing "${key}"`);
      ok = false;
    }
    return ok;
  }
}
