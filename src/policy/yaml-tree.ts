/**
 * Policy files as a small tree of YAML nodes with source offsets, read with js-yaml.
 *
 * Why not the `yaml` package (which the config loader uses): its lexer and parser alone took
 * 1.1-1.8 s of CPU for a 10,000-rule policy on the bench VM, most of a compile time whose target
 * is 2 s; js-yaml reads the same 1.5 MB file in 0.1-0.2 s. js-yaml builds plain values without
 * positions, so the tree is assembled from its node listener: every composed node is announced
 * when it opens (the offset where it starts, possibly before separating white space and
 * comments) and when it closes (its kind and value). Nodes nest, so a stack turns the event
 * stream into a tree.
 *
 * Only the YAML a policy needs: the core schema (strings, integers, floats, booleans, null; no
 * timestamps, no merge keys, no custom tags), one document, no anchors or aliases (a policy does
 * not need them, and refusing them removes alias-expansion attacks outright). Duplicate keys are
 * kept in the tree so that the reader reports them with their position (PC102).
 */
import jsYaml from 'js-yaml';

/** A scalar: the value js-yaml's core schema resolved (a plain `42` is a number). */
export interface YamlScalar {
  readonly kind: 'scalar';
  readonly offset: number;
  readonly value: string | number | boolean | null;
}

/** A mapping, its pairs in source order (duplicates included). */
export interface YamlMap {
  readonly kind: 'map';
  readonly offset: number;
  readonly pairs: ReadonlyArray<{ readonly key: YamlNode; readonly value: YamlNode }>;
}

/** A sequence. */
export interface YamlSeq {
  readonly kind: 'seq';
  readonly offset: number;
  readonly items: readonly YamlNode[];
}

export type YamlNode = YamlScalar | YamlMap | YamlSeq;

/** A file that is not YAML a policy may use; `offset` locates the fault. */
export class YamlTreeError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** One node being composed. */
interface Frame {
  readonly open: number;
  readonly children: Frame[];
  kind: string | null;
  result: unknown;
}

/** js-yaml's loader state as the listener sees it; `anchor` is set on a node that has one. */
type LoaderState = jsYaml.State & { readonly anchor?: string | null };

/** The offset of the first character at or after `from` that is not white space or a comment. */
function contentStart(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      i++;
    } else if (c === 0x23 /* # */) {
      while (i < text.length && text.charCodeAt(i) !== 0x0a) i++;
    } else {
      break;
    }
  }
  return Math.min(i, Math.max(text.length - 1, 0));
}

/** Text without a leading byte-order mark (js-yaml drops it, which would shift every offset). */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses `text` (already without a BOM) into a tree; null for an empty document. Throws
 * YamlTreeError for invalid YAML and for what a policy may not use.
 */
export function parseYamlTree(text: string): YamlNode | null {
  const root: Frame = { open: 0, children: [], kind: null, result: undefined };
  const stack: Frame[] = [root];
  const listener = (event: jsYaml.EventType, state: LoaderState): void => {
    if (event === 'open') {
      const frame: Frame = { open: state.position, children: [], kind: null, result: undefined };
      stack[stack.length - 1]!.children.push(frame);
      stack.push(frame);
      return;
    }
    const frame = stack.pop()!;
    if (state.anchor !== null && state.anchor !== undefined) {
      throw new YamlTreeError('anchors (&name) and aliases (*name) are not allowed in policy files',
        contentStart(text, frame.open));
    }
    frame.kind = state.kind ?? null;
    frame.result = state.result;
  };
  try {
    jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, json: true, listener });
  } catch (err) {
    if (err instanceof YamlTreeError) throw err;
    if (err instanceof jsYaml.YAMLException) {
      throw new YamlTreeError(err.reason, err.mark?.position ?? 0);
    }
    // Deep nesting exhausts the stack: refused like any other input the parser cannot take.
    throw new YamlTreeError(err instanceof RangeError ? 'nested too deeply' : 'unreadable', 0);
  }
  if (stack.length !== 1) throw new YamlTreeError('unbalanced nodes', 0);
  const top = root.children[0] === undefined ? null : build(text, root.children[0]);
  return top?.kind === 'scalar' && top.value === null ? null : top;
}

/** js-yaml's block-mapping lookahead composes a flow collection inside its own frame: unwrap. */
function unwrap(frame: Frame): Frame {
  let f = frame;
  while (f.children.length === 1 && typeof f.result === 'object' && f.result !== null
    && f.children[0]!.result === f.result) {
    f = f.children[0]!;
  }
  return f;
}

function build(text: string, input: Frame): YamlNode {
  const frame = unwrap(input);
  const offset = contentStart(text, frame.open);
  if (frame.kind === 'mapping') {
    // Every key is composed and then its value (an empty value is a null node); a key written
    // without a value (`{a}` or `? a`) leaves an odd count, which a policy never needs.
    if (frame.children.length % 2 !== 0) {
      throw new YamlTreeError('every key needs a value ("key: value")', offset);
    }
    const pairs: Array<{ key: YamlNode; value: YamlNode }> = [];
    for (let i = 0; i < frame.children.length; i += 2) {
      pairs.push({ key: build(text, frame.children[i]!), value: build(text, frame.children[i + 1]!) });
    }
    return { kind: 'map', offset, pairs };
  }
  if (frame.kind === 'sequence') {
    const items = frame.children.map((child) => build(text, child));
    if (items.length !== (frame.result as unknown[]).length) {
      throw new YamlTreeError('a list item in a form a policy cannot use', offset);
    }
    return { kind: 'seq', offset, items };
  }
  const value = frame.result;
  if (value === null || value === undefined) return { kind: 'scalar', offset, value: null };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return { kind: 'scalar', offset, value };
  }
  // A `[a: b]` pair in a flow list and other composite forms arrive here.
  throw new YamlTreeError('a value in a form a policy cannot use', offset);
}

/** Line and column (both from 1) of offsets in one text, by binary search over line starts. */
export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.#starts.push(i + 1);
  }

  /** The 1-based line and column of `offset`. */
  at(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.#starts[lo]! + 1 };
  }
}
