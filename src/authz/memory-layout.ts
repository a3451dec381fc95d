/**
 * The evaluator's linear-memory layout as the host writes it: byte offsets mirroring
 * `assembly/layout.ts` (diagram in assembly/README.md). Any change bumps `kEvaluatorAbiVersion`
 * and the module's `ABI_VERSION` in the same commit.
 */
export const kMem = {
  service: 4096,
  method: 4100,
  kind: 4104,
  subject: 4108,
  client: 4112,
  spiffe: 4116,
  segCount: 4120,
  scopeCount: 4124,
  groupCount: 4128,
  hasAddress: 4132,
  nowMs: 4136,
  address: 4144,
  segs: 8192,
  scopes: 9216,
  groups: 10240,
  attrs: 11264,
  attrSpans: 13312,
  bytes: 32768,
  tree: 131072,
} as const;

/** Capacities of the id arrays and the byte area (requests beyond them are refused). */
export const kMemLimits = {
  segments: 256,
  scopes: 256,
  groups: 256,
  bytes: 65536,
} as const;

/** Id written for a string the bundle's string table does not hold, where only equality with
 * table strings matters (service, method, subject, client, SPIFFE ID, scopes, groups). */
export const kUnknownId = 0xffffffff;
