/**
 * Pass 1, parse: policy files (YAML text) to the policy model, with 1xx diagnostics.
 *
 * Files are read in name order and their rules numbered in that order, so a rule's index (and
 * with it which of two applicable rules decides) never depends on the file system. Each file is a
 * mapping with any of `version`, `roles`, `assignments`, `rules`; `version` appears in exactly one
 * file. See docs/policy-language.md for the language.
 */
import { DiagnosticSink } from './diagnostics.js';
import {
  type Assignment, type CredentialKind, type PathPattern, type PatternSegment, type Policy,
  type Role, type Rule, type SourcePos, type SubjectMatcher,
} from './model.js';
import { parseCondition } from './parse-condition.js';
import { type Node, YamlReader, isMap, isScalar } from './yaml-reader.js';
import { LineIndex, YamlTreeError, parseYamlTree, withoutBom } from './yaml-tree.js';

/** A policy source file: its name relative to the policy directory, and its text. */
export interface PolicyFile {
  readonly name: string;
  readonly text: string;
}

const kRuleId = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const kRoleName = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const kServiceName = /^[a-z0-9][a-z0-9-]{0,62}$/;
const kMethod = /^[A-Z][A-Z0-9_-]{0,31}$/;
const kParamName = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Principal fields an assignment can match, by their key in `assignments` entries. */
const kAssignKeys = {
  groups: 'group', scopes: 'scope', clients: 'client', subjects: 'subject', spiffe: 'spiffe',
  credentials: 'credential',
} as const;
/** `who:` list keys and the matcher each value becomes. */
const kWhoKeys = {
  roles: 'role', subjects: 'subject', scopes: 'scope', clients: 'client', groups: 'group',
  spiffe: 'spiffe', credentials: 'credential',
} as const;

/** Parses a path pattern; returns the reason (for PC105) when its syntax is invalid. */
export function parsePathPattern(text: string): PathPattern | string {
  if (!text.startsWith('/')) return 'a path pattern starts with "/"';
  const parts = text.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const names = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '**') {
      if (i !== parts.length - 1) return '"**" is allowed only as the last segment';
      segments.push({ kind: 'glob' });
    } else if (part === '*') {
      segments.push({ kind: 'star' });
    } else if (part.startsWith('{') && part.endsWith('}')) {
      const name = part.slice(1, -1);
      if (!kParamName.test(name)) return `parameter ${JSON.stringify(part)} needs a name like {id}`;
      if (names.has(name)) return `parameter {${name}} appears twice`;
      names.add(name);
      segments.push({ kind: 'param', name });
    } else if (/[{}*]/.test(part)) {
      return `segment ${JSON.stringify(part)}: "*", "**" and "{name}" must be whole segments`;
    } else {
      segments.push({ kind: 'literal', value: part });
    }
  }
  return { text, segments };
}

/** Reads one file's sections into `out`. */
class FileParser {
  readonly #r: YamlReader;
  readonly #out: ParseState;

  constructor(r: YamlReader, out: ParseState) {
    this.#r = r;
    this.#out = out;
  }

  file(top: Node | null): void {
    const r = this.#r;
    if (top === null) return;
    const e = r.map(top, 'policy file', ['version', 'roles', 'assignments', 'rules']);
    if (e === undefined) return;
    const version = e.get('version');
    if (version !== undefined) {
      const v = r.integer(version.value, 'version', 1, Number.MAX_SAFE_INTEGER);
      if (this.#out.version !== undefined) {
        r.error(108, version.keyNode, `version: already declared in ${this.#out.versionFile}`);
      } else if (v !== undefined) {
        this.#out.version = v;
        this.#out.versionFile = r.file;
      }
    }
    const roles = e.get('roles');
    if (roles !== undefined) this.roles(roles.value);
    const assignments = e.get('assignments');
    if (assignments !== undefined) {
      for (const item of r.list(assignments.value, 'assignments') ?? []) this.assignment(item);
    }
    const rules = e.get('rules');
    if (rules !== undefined) for (const item of r.list(rules.value, 'rules') ?? []) this.rule(item);
  }

  roles(node: Node | null): void {
    const r = this.#r;
    for (const [name, { keyNode, value }] of r.map(node, 'roles') ?? []) {
      if (!kRoleName.test(name)) {
        r.error(104, keyNode, `roles: ${JSON.stringify(name)} is not a valid role name`);
        continue;
      }
      let inherits: string[] = [];
      const roleValue = value;
      if (roleValue !== null && !(isScalar(roleValue) && roleValue.value === null)) {
        const e = r.map(value, `roles.${name}`, ['inherits']);
        const list = e?.get('inherits');
        if (list !== undefined) inherits = r.strings(list.value, `roles.${name}.inherits`) ?? [];
      }
      this.#out.roles.push({ name, inherits, pos: r.pos(keyNode) });
    }
  }

  assignment(node: Node): void {
    const r = this.#r;
    const e = r.map(node, 'assignment', ['role', ...Object.keys(kAssignKeys)]);
    if (e === undefined || !r.requires(e, node, 'assignment', ['role'])) return;
    const role = r.string(e.get('role')!.value, 'assignment.role');
    if (role === undefined) return;
    if (e.size === 1) return void r.error(103, node, 'assignment: name at least one of ' +
      Object.keys(kAssignKeys).join(', '));
    for (const [key, kind] of Object.entries(kAssignKeys)) {
      const entry = e.get(key);
      if (entry === undefined) continue;
      const values = kind === 'credential'
        ? r.strings(entry.value, `assignment.${key}`, /^(jwt|opaque|mtls|session|anonymous)$/,
          'a credential kind (jwt, opaque, mtls, session, anonymous)')
        : r.strings(entry.value, `assignment.${key}`);
      for (const value of values ?? []) {
        this.#out.assignments.push({ role, kind, value, pos: r.pos(entry.keyNode) });
      }
    }
  }

  who(input: Node | null): SubjectMatcher[] | undefined {
    const r = this.#r;
    const node = input;
    if (isScalar(node) && typeof node.value === 'string') {
      if (node.value === 'anyone' || node.value === 'authenticated' || node.value === 'anonymous') {
        return [{ kind: node.value }];
      }
      return void r.error(104, node, 'who: expected anyone, authenticated, anonymous or a mapping');
    }
    const e = r.map(node, 'who', [...Object.keys(kWhoKeys), 'anonymous', 'authenticated']);
    if (e === undefined) return undefined;
    if (e.size === 0) return void r.error(103, node, 'who: name at least one kind of subject');
    const out: SubjectMatcher[] = [];
    for (const flag of ['anonymous', 'authenticated'] as const) {
      const entry = e.get(flag);
      if (entry === undefined) continue;
      if (r.boolean(entry.value, `who.${flag}`) !== true) {
        return void r.error(104, entry.value, `who.${flag}: only "true" is meaningful`);
      }
      out.push({ kind: flag });
    }
    for (const [key, kind] of Object.entries(kWhoKeys)) {
      const entry = e.get(key);
      if (entry === undefined) continue;
      const values = kind === 'credential'
        ? r.strings(entry.value, `who.${key}`, /^(jwt|opaque|mtls|session|anonymous)$/,
          'a credential kind')
        : r.strings(entry.value, `who.${key}`);
      if (values === undefined) return undefined;
      for (const value of values) {
        out.push(kind === 'credential' ? { kind, value: value as CredentialKind } : { kind, value });
      }
    }
    return out;
  }

  rule(node: Node): void {
    const r = this.#r;
    const e = r.map(node, 'rule', ['id', 'effect', 'who', 'services', 'methods', 'paths', 'when',
      'obligations', 'description']);
    if (e === undefined || !r.requires(e, node, 'rule', ['id', 'effect', 'who', 'paths'])) return;

    // Step 1: identity and effect.
    const id = r.string(e.get('id')!.value, 'rule.id');
    if (id !== undefined && !kRuleId.test(id)) {
      r.error(104, e.get('id')!.value, `rule.id: ${JSON.stringify(id)} is not a valid rule id`);
    }
    const effectNode = e.get('effect')!.value;
    const effect = r.string(effectNode, 'rule.effect');
    if (effect !== undefined && effect !== 'allow' && effect !== 'deny') {
      r.error(104, effectNode, 'rule.effect: expected allow or deny');
    }
    const description = e.get('description');
    if (description !== undefined) r.string(description.value, 'rule.description');

    // Step 2: what it is about.
    const subjects = this.who(e.get('who')!.value);
    const services = e.has('services')
      ? r.strings(e.get('services')!.value, 'rule.services', kServiceName, 'a service name')
      : undefined;
    const methods = e.has('methods')
      ? r.strings(e.get('methods')!.value, 'rule.methods', kMethod, 'an upper-case method name')
      : undefined;
    const paths: PathPattern[] = [];
    const pathNode = e.get('paths')!.value;
    for (const item of r.list(pathNode, 'rule.paths') ?? []) {
      const text = r.string(item, 'rule.paths');
      if (text === undefined) continue;
      const pattern = parsePathPattern(text);
      if (typeof pattern === 'string') r.error(105, item, `rule.paths: ${pattern}`);
      else paths.push(pattern);
    }
    if (isMap(pathNode) || (r.list(pathNode, 'rule.paths')?.length ?? 1) === 0) {
      r.error(104, pathNode, 'rule.paths: expected at least one pattern');
    }

    // Step 3: conditions and obligations.
    const when = e.get('when');
    const condition = when === undefined ? undefined : parseCondition(r, when.value);
    const obligations: [string, string][] = [];
    const obl = e.get('obligations');
    if (obl !== undefined) {
      const o = r.map(obl.value, 'rule.obligations', ['headers']);
      for (const [name, { keyNode, value }] of r.map(o?.get('headers')?.value ?? null,
        'obligations.headers') ?? []) {
        const text = r.string(value, `obligations.headers.${name}`);
        if (text !== undefined) obligations.push([name, text]);
        this.#out.obligationPos.set(`${this.#out.rules.length}:${name}`, r.pos(keyNode));
      }
    }

    if (id === undefined || (effect !== 'allow' && effect !== 'deny') || subjects === undefined
      || paths.length === 0
      || (when !== undefined && condition === undefined)) return;
    if (e.has('services') && services === undefined) return;
    if (e.has('methods') && methods === undefined) return;
    this.#out.rules.push({
      index: this.#out.rules.length, id, effect, services, methods, paths, subjects, condition,
      obligations, pos: r.pos(node),
    });
  }
}

interface ParseState {
  version: number | undefined;
  versionFile: string;
  roles: Role[];
  assignments: Assignment[];
  rules: Rule[];
  /** Positions of obligation headers, keyed `ruleIndex:name`, for the checker's diagnostics. */
  obligationPos: Map<string, SourcePos>;
}

/** What parsing produced: the policy (absent when errors made it unusable) and diagnostics. */
export interface ParseResult {
  readonly policy: Policy | undefined;
  readonly sink: DiagnosticSink;
  readonly obligationPos: ReadonlyMap<string, SourcePos>;
}

/** Parses `files` (in any order; they are sorted by name) into one policy. */
export function parsePolicy(files: readonly PolicyFile[]): ParseResult {
  const sink = new DiagnosticSink();
  const state: ParseState = { version: undefined, versionFile: '', roles: [], assignments: [],
    rules: [], obligationPos: new Map() };
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (sorted.length === 0) {
    sink.error(109, { file: '.', line: 1, column: 1 }, 'no policy files (*.yaml, *.yml) found');
  }
  for (const file of sorted) {
    const text = withoutBom(file.text);
    const lines = new LineIndex(text);
    let top: Node | null;
    try {
      top = parseYamlTree(text);
    } catch (err) {
      if (!(err instanceof YamlTreeError)) throw err;
      const { line, col } = lines.at(err.offset);
      sink.error(100, { file: file.name, line, column: col }, `invalid YAML: ${err.message}`);
      continue;
    }
    new FileParser(new YamlReader(file.name, lines, sink), state).file(top);
  }
  if (state.version === undefined && sorted.length > 0) {
    sink.error(108, { file: sorted[0]!.name, line: 1, column: 1 },
      'no file declares "version: N" (the policy version, increased on every rollout)');
  }
  const policy = sink.hasErrors ? undefined : {
    version: state.version ?? 0, roles: state.roles, assignments: state.assignments,
    rules: state.rules,
  };
  return { policy, sink, obligationPos: state.obligationPos };
}

