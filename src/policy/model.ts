/**
 * The policy model: what a policy means, independent of YAML and of the decision tree.
 *
 * `parse.ts` builds it from source files, `check.ts` validates and resolves it, `lower.ts` turns
 * it into the decision tree, and the bundle carries it as rule metadata, so that the reference
 * evaluator (`src/authz/reference-evaluator.ts`) and `portcullis explain` can read the same rules
 * the tree was built from. Every value here is plain data (JSON-safe) and treated as immutable.
 */

/** Where something was written: file (relative to the policy directory), 1-based line/column. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** The credential kinds a principal can have (the proxy's `Principal.kind`). */
export const kCredentialKinds = ['jwt', 'opaque', 'mtls', 'session', 'anonymous'] as const;
export type CredentialKind = (typeof kCredentialKinds)[number];

/** One segment of a path pattern. `param` and `star` match one non-empty segment. */
export type PatternSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'star' }
  /** `**`: zero or more remaining segments; only as the last segment. */
  | { readonly kind: 'glob' };

/** A path pattern such as `/orders/{tenant}/**`, split on `/` after the leading one. */
export interface PathPattern {
  readonly text: string;
  readonly segments: readonly PatternSegment[];
}

/** Who a rule is about. A rule applies when any one of its matchers matches. */
export type SubjectMatcher =
  | { readonly kind: 'anyone' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'role'; readonly value: string }
  | { readonly kind: 'subject'; readonly value: string }
  | { readonly kind: 'scope'; readonly value: string }
  | { readonly kind: 'client'; readonly value: string }
  | { readonly kind: 'group'; readonly value: string }
  | { readonly kind: 'spiffe'; readonly value: string }
  | { readonly kind: 'credential'; readonly value: CredentialKind };

/** A request attribute a condition reads: `claims.X` (principal attributes) or a header. */
export interface AttributeRef {
  readonly source: 'claim' | 'header';
  /** Claim name as written; header names are lower-cased by the parser. */
  readonly name: string;
}

/** An attribute-based condition. Absent attributes equal nothing and have no prefix. */
export type Condition =
  | { readonly op: 'all'; readonly of: readonly Condition[] }
  | { readonly op: 'any'; readonly of: readonly Condition[] }
  | { readonly op: 'not'; readonly of: Condition }
  | { readonly op: 'equals'; readonly attr: AttributeRef; readonly value: string }
  | { readonly op: 'in'; readonly attr: AttributeRef; readonly values: readonly string[] }
  | { readonly op: 'prefix'; readonly attr: AttributeRef; readonly value: string }
  /** The attribute equals the path segment bound to `param` (index `segment` in the path). */
  | { readonly op: 'equals-param'; readonly attr: AttributeRef; readonly param: string;
    readonly segment: number }
  /** The source address lies in one of the ranges (text `a.b.c.d/n` or `v6/n`). */
  | { readonly op: 'cidr'; readonly ranges: readonly string[] }
  | { readonly op: 'time'; readonly window: TimeWindow };

/**
 * A time window in a fixed UTC offset. A request is inside when its weekday (in that offset) is
 * in `days`, its minute of the day is in [fromMinute, toMinute) (wrapping past midnight when
 * fromMinute > toMinute; the whole day when both are 0), and `notBeforeMs <= now < notAfterMs`.
 */
export interface TimeWindow {
  /** Bit d set: weekday d is allowed (0 = Sunday ... 6 = Saturday). */
  readonly days: number;
  readonly fromMinute: number;
  readonly toMinute: number;
  readonly utcOffsetMinutes: number;
  /** Epoch milliseconds; -Infinity / Infinity stand for "no bound" and are stored as such. */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/** One allow or deny rule, numbered in source order (files sorted by name). */
export interface Rule {
  readonly index: number;
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  /** Service names, or undefined for any service. */
  readonly services: readonly string[] | undefined;
  /** Upper-case method names, or undefined for any method. */
  readonly methods: readonly string[] | undefined;
  readonly paths: readonly PathPattern[];
  readonly subjects: readonly SubjectMatcher[];
  readonly condition: Condition | undefined;
  /** Headers added to the upstream request when this rule allows: [name, value] pairs. */
  readonly obligations: readonly (readonly [string, string])[];
  readonly pos: SourcePos;
}

/** A role and the roles whose permissions it inherits. */
export interface Role {
  readonly name: string;
  readonly inherits: readonly string[];
  readonly pos: SourcePos;
}

/** Which principals get a role directly. `kind` names the principal field compared. */
export interface Assignment {
  readonly role: string;
  readonly kind: 'group' | 'scope' | 'client' | 'subject' | 'spiffe' | 'credential';
  readonly value: string;
  readonly pos: SourcePos;
}

/** A whole policy as parsed (possibly from several files). */
export interface Policy {
  /** The policy version written in the sources; bundles must increase it on every rollout. */
  readonly version: number;
  readonly roles: readonly Role[];
  readonly assignments: readonly Assignment[];
  readonly rules: readonly Rule[];
}
