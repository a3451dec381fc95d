/**
 * The bundle: the compiled policy as protobuf bytes (schema `proto/bundle.proto`), read and
 * written with protobufjs. `encodeBundle` is deterministic: the same content gives the same bytes
 * (protobufjs writes fields in number order and lists in order). `decodeBundle` checks the schema
 * version and the tree header before anything uses the content; it never evaluates anything.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { PortcullisError } from '../errors/index.js';
import type { AttributeSlot, LoweredPolicy } from './lower.js';
import type {
  Assignment, Condition, CredentialKind, Policy, Role, Rule, SubjectMatcher,
} from './model.js';
import { parsePathPattern, type PolicyFile } from './parse.js';
import { kTreeHeader, kTreeLayoutVersion, kTreeMagic } from './tree-layout.js';

/** The bundle schema version this build writes and the only one it reads. */
export const kBundleSchemaVersion = 1;

const kProtoPath = fileURLToPath(new URL('../../../proto/bundle.proto', import.meta.url));
let kBundleType: protobuf.Type | undefined;
function bundleType(): protobuf.Type {
  kBundleType ??= protobuf.loadSync(kProtoPath).lookupType('portcullis.policy.v1.Bundle');
  return kBundleType;
}

/** Identity of a bundle: what the proxy reports and compares. */
export interface BundleMeta {
  readonly schemaVersion: number;
  readonly policyVersion: number;
  /** Lower-case hex SHA-256 of the sources. */
  readonly sourceDigest: string;
  readonly createdAtMs: number;
  readonly compiler: string;
}

/** A decoded bundle: its identity, the policy model (rule metadata) and the lowered tree. */
export interface DecodedBundle extends LoweredPolicy {
  readonly meta: BundleMeta;
  readonly policy: Policy;
}

/** SHA-256 over the source files sorted by name: name, NUL, byte length, NUL, bytes, each. */
export function sourceDigest(files: readonly PolicyFile[]): string {
  const hash = createHash('sha256');
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of sorted) {
    const bytes = Buffer.from(f.text, 'utf8');
    hash.update(`${f.name}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

type ConditionMessage = {
  op: string; of?: ConditionMessage[]; attrSource?: string; attrName?: string;
  values?: string[]; param?: string; segment?: number;
  window?: { days: number; fromMinute: number; toMinute: number; utcOffsetMinutes: number;
    notBeforeMs: number; notAfterMs: number };
};

function conditionToMessage(c: Condition): ConditionMessage {
  switch (c.op) {
    case 'all': case 'any': return { op: c.op, of: c.of.map(conditionToMessage) };
    case 'not': return { op: c.op, of: [conditionToMessage(c.of)] };
    case 'equals': case 'prefix':
      return { op: c.op, attrSource: c.attr.source, attrName: c.attr.name, values: [c.value] };
    case 'in': return { op: c.op, attrSource: c.attr.source, attrName: c.attr.name, values: [...c.values] };
    case 'equals-param': return { op: c.op, attrSource: c.attr.source, attrName: c.attr.name,
      param: c.param, segment: c.segment };
    case 'cidr': return { op: c.op, values: [...c.ranges] };
    case 'time': return { op: c.op, window: { ...c.window } };
  }
}

function conditionFromMessage(m: ConditionMessage): Condition {
  const attr = { source: m.attrSource as 'claim' | 'header', name: m.attrName ?? '' };
  const values = m.values ?? [];
  switch (m.op) {
    case 'all': case 'any': return { op: m.op, of: (m.of ?? []).map(conditionFromMessage) };
    case 'not': return { op: 'not', of: conditionFromMessage(m.of?.[0] ?? { op: '?' }) };
    case 'equals': case 'prefix': return { op: m.op, attr, value: values[0] ?? '' };
    case 'in': return { op: 'in', attr, values };
    case 'equals-param': return { op: 'equals-param', attr, param: m.param ?? '', segment: m.segment ?? 0 };
    case 'cidr': return { op: 'cidr', ranges: values };
    case 'time': return { op: 'time', window: { ...m.window! } };
    default: throw new PortcullisError('IAM_BUNDLE_MALFORMED', `unknown condition op ${m.op}`);
  }
}

/** Encodes a compiled policy. `meta.schemaVersion` is always `kBundleSchemaVersion`. */
export function encodeBundle(meta: Omit<BundleMeta, 'schemaVersion'>, policy: Policy,
  lowered: LoweredPolicy): Uint8Array {
  const tree = new Uint8Array(lowered.tree.length * 4);
  const view = new DataView(tree.buffer);
  lowered.tree.forEach((word, i) => view.setUint32(i * 4, word, true));
  const message = {
    schemaVersion: kBundleSchemaVersion,
    policyVersion: meta.policyVersion,
    sourceDigest: Buffer.from(meta.sourceDigest, 'hex'),
    createdAtMs: meta.createdAtMs,
    compiler: meta.compiler,
    strings: lowered.strings,
    serviceCount: lowered.serviceCount,
    attributes: lowered.attributes.map((a) => ({ ...a })),
    roles: policy.roles.map((r) => ({ name: r.name, inherits: [...r.inherits] })),
    assignments: policy.assignments.map((a) => ({ role: a.role, kind: a.kind, value: a.value })),
    rules: policy.rules.map((r) => ({
      id: r.id, allow: r.effect === 'allow', file: r.pos.file, line: r.pos.line, column: r.pos.column,
      anyService: r.services === undefined, services: r.services ?? [],
      anyMethod: r.methods === undefined, methods: r.methods ?? [],
      paths: r.paths.map((p) => p.text),
      subjects: r.subjects.map((s) => ({ kind: s.kind, value: 'value' in s ? s.value : '' })),
      condition: r.condition === undefined ? undefined : conditionToMessage(r.condition),
      obligations: r.obligations.map(([name, value]) => ({ name, value })),
    })),
    treeLayout: kTreeLayoutVersion,
    tree,
  };
  const type = bundleType();
  return type.encode(type.fromObject(message)).finish();
}

function malformed(detail: string): PortcullisError {
  return new PortcullisError('IAM_BUNDLE_MALFORMED', detail);
}

/**
 * Decodes and checks bundle bytes (already signature-verified by the caller when they came from
 * outside). Throws `IAM_BUNDLE_MALFORMED` or `IAM_BUNDLE_VERSION_UNSUPPORTED`.
 */
export function decodeBundle(bytes: Uint8Array): DecodedBundle {
  let raw: Record<string, any>;
  try {
    const type = bundleType();
    raw = type.toObject(type.decode(bytes), { longs: Number, bytes: Array, defaults: true });
  } catch (err) {
    throw malformed(`not a protobuf bundle: ${(err as Error).message}`);
  }
  if (raw.schemaVersion !== kBundleSchemaVersion) {
    throw new PortcullisError('IAM_BUNDLE_VERSION_UNSUPPORTED',
      `schema version ${raw.schemaVersion}; this build reads ${kBundleSchemaVersion}`);
  }
  if (raw.treeLayout !== kTreeLayoutVersion) {
    throw new PortcullisError('IAM_BUNDLE_VERSION_UNSUPPORTED',
      `tree layout ${raw.treeLayout}; this build reads ${kTreeLayoutVersion}`);
  }
  const treeBytes = Uint8Array.from(raw.tree as number[]);
  if (treeBytes.length % 4 !== 0 || treeBytes.length < kTreeHeader.size * 4) throw malformed('tree size');
  const view = new DataView(treeBytes.buffer);
  const tree = new Uint32Array(treeBytes.length / 4);
  for (let i = 0; i < tree.length; i++) tree[i] = view.getUint32(i * 4, true);
  const strings = raw.strings as string[];
  if (tree[kTreeHeader.magic] !== kTreeMagic || tree[kTreeHeader.stringCount] !== strings.length
    || tree[kTreeHeader.ruleCount] !== raw.rules.length || strings[0] !== '') {
    throw malformed('tree header does not match the bundle');
  }

  const rules: Rule[] = (raw.rules as any[]).map((r, index) => ({
    index, id: r.id, effect: r.allow ? 'allow' : 'deny',
    services: r.anyService ? undefined : r.services, methods: r.anyMethod ? undefined : r.methods,
    paths: (r.paths as string[]).map((text) => {
      const p = parsePathPattern(text);
      if (typeof p === 'string') throw malformed(`rule ${r.id}: ${p}`);
      return p;
    }),
    subjects: (r.subjects as { kind: string; value: string }[]).map((s): SubjectMatcher =>
      (s.kind === 'anyone' || s.kind === 'authenticated' || s.kind === 'anonymous'
        ? { kind: s.kind }
        : { kind: s.kind as 'role', value: s.value as CredentialKind & string })),
    condition: r.condition === null ? undefined : conditionFromMessage(r.condition),
    obligations: (r.obligations as { name: string; value: string }[]).map((o) => [o.name, o.value] as const),
    pos: { file: r.file, line: r.line, column: r.column },
  }));
  const none = { file: '', line: 0, column: 0 };
  const roles: Role[] = (raw.roles as any[]).map((r) => ({ name: r.name, inherits: r.inherits, pos: none }));
  const assignments: Assignment[] = (raw.assignments as any[]).map((a) => ({ ...a, pos: none }));
  const meta: BundleMeta = {
    schemaVersion: raw.schemaVersion, policyVersion: raw.policyVersion,
    sourceDigest: Buffer.from(raw.sourceDigest as number[]).toString('hex'),
    createdAtMs: raw.createdAtMs, compiler: raw.compiler,
  };
  return {
    meta,
    policy: { version: raw.policyVersion, roles, assignments, rules },
    strings, serviceCount: raw.serviceCount,
    attributes: raw.attributes as AttributeSlot[],
    roles: roles.map((r) => r.name).sort(),
    tree,
  };
}
