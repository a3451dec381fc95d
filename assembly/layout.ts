// Linear-memory layout shared with the host (src/authz/memory-layout.ts) and the tree-image
// format written by src/policy/lower.ts (src/policy/tree-layout.ts). Byte offsets. The diagram
// is in assembly/README.md; any change here bumps ABI_VERSION and kEvaluatorAbiVersion together.

// Request block, written by the host before each call.
export const REQ: u32 = 4096;
export const REQ_SERVICE: u32 = REQ + 0;
export const REQ_METHOD: u32 = REQ + 4;
export const REQ_KIND: u32 = REQ + 8;
export const REQ_SUBJECT: u32 = REQ + 12;
export const REQ_CLIENT: u32 = REQ + 16;
export const REQ_SPIFFE: u32 = REQ + 20;
export const REQ_SEG_COUNT: u32 = REQ + 24;
export const REQ_SCOPE_COUNT: u32 = REQ + 28;
export const REQ_GROUP_COUNT: u32 = REQ + 32;
export const REQ_HAS_ADDRESS: u32 = REQ + 36;
export const REQ_NOW_MS: u32 = REQ + 40;
export const REQ_ADDRESS: u32 = REQ + 48;

// Id arrays (u32 each) and attribute slots.
export const SEGS: u32 = 8192;
export const SCOPES: u32 = 9216;
export const GROUPS: u32 = 10240;
export const ATTRS: u32 = 11264;
export const ATTR_SPANS: u32 = 13312;

// Evaluator scratch: the principal's role bitset.
export const ROLES: u32 = 17408;

// Raw bytes of attributes that prefix tests read (host-written, 64 KiB).
export const BYTES: u32 = 32768;

// The tree image, copied in once per bundle; offsets inside it are word indices.
export const TREE: u32 = 131072;

// Tree header words (src/policy/tree-layout.ts kTreeHeader).
export const H_SERVICE_COUNT: u32 = 3;
export const H_SERVICE_TABLE: u32 = 4;
export const H_ROLE_COUNT: u32 = 5;
export const H_ASSIGNMENTS: u32 = 6;

export const KIND_ANONYMOUS: u32 = 3;
export const EFFECT_DENY: u32 = 0;

// Subject opcodes.
export const S_AUTHENTICATED: u32 = 2;
export const S_ANONYMOUS: u32 = 3;
export const S_ROLE: u32 = 4;
export const S_SUBJECT: u32 = 5;
export const S_SCOPE: u32 = 6;
export const S_CLIENT: u32 = 7;
export const S_GROUP: u32 = 8;
export const S_SPIFFE: u32 = 9;
export const S_CREDENTIAL: u32 = 10;

// Assignment kinds.
export const A_GROUP: u32 = 1;
export const A_SCOPE: u32 = 2;
export const A_CLIENT: u32 = 3;
export const A_SUBJECT: u32 = 4;
export const A_SPIFFE: u32 = 5;
export const A_CREDENTIAL: u32 = 6;

// Condition opcodes.
export const C_ALL: u32 = 1;
export const C_ANY: u32 = 2;
export const C_NOT: u32 = 3;
export const C_EQUALS: u32 = 4;
export const C_IN: u32 = 5;
export const C_PREFIX: u32 = 6;
export const C_EQUALS_SEGMENT: u32 = 7;
export const C_CIDR: u32 = 8;
export const C_TIME: u32 = 9;
