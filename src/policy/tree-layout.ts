/**
 * The decision-tree image: opcodes and header fields shared by the compiler (`lower.ts`), the
 * AssemblyScript evaluator (`assembly/layout.ts` mirrors these numbers) and the TypeScript tree
 * walker. The image is an array of little-endian u32 words; every offset is a word index into it,
 * and 0 means "none" (word 0 is the magic, so no structure starts there). See README.md here.
 */

/** Words 0-9 of every image. */
export const kTreeHeader = {
  magic: 0,
  layout: 1,
  stringCount: 2,
  serviceCount: 3,
  serviceTable: 4,
  roleCount: 5,
  assignmentTable: 6,
  flags: 7,
  attributeCount: 8,
  ruleCount: 9,
  size: 10,
} as const;

/** 'PCTR' read as a little-endian u32. */
export const kTreeMagic = 0x52544350;
/** Version of this image layout; equals the evaluator ABI version that reads it. */
export const kTreeLayoutVersion = 2;

/** Header flag bits: which request attributes the tree reads (the host skips the others). */
export const kTreeFlags = { roles: 1, address: 2 } as const;

/** Trie node: 5 words. */
export const kNode = { litCount: 0, litPairs: 1, star: 2, leafList: 3, globList: 4, size: 5 } as const;

/** Rule body: 4 words. */
export const kRuleBody = { index: 0, effect: 1, subjects: 2, condition: 3, size: 4 } as const;
export const kEffectDeny = 0;
export const kEffectAllow = 1;

/** Subject matcher opcodes (pairs of op, argument). */
export const kSubjectOp = {
  anyone: 1, authenticated: 2, anonymous: 3, role: 4, subject: 5, scope: 6, client: 7, group: 8,
  spiffe: 9, credential: 10,
} as const;

/** Principal fields assignments key on (first word of an assignment entry). */
export const kAssignKind = {
  group: 1, scope: 2, client: 3, subject: 4, spiffe: 5, credential: 6,
} as const;

/** Credential kinds as the evaluator sees them (request word `kind`). */
export const kKindCode = { jwt: 0, opaque: 1, mtls: 2, anonymous: 3, session: 4 } as const;

/** Condition opcodes. */
export const kCondOp = {
  all: 1, any: 2, not: 3, equals: 4, in: 5, prefix: 6, equalsSegment: 7, cidr: 8, time: 9,
} as const;

/** Most attribute slots (claims and headers together) a tree may read. */
export const kMaxAttributes = 512;
/** Most roles a policy may define (the evaluator's role bitset is 8 KiB). */
export const kMaxRoles = 65536;
/** Most words in an image (1 GiB). */
export const kMaxTreeWords = 1 << 28;
