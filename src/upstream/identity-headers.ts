/**
 * Identity headers: the verified principal, as the upstream of a service sees it.
 *
 * Default names live in the proxy's own `x-portcullis-` namespace, which clients can never set
 * (every inbound spelling is removed by forward-headers.ts). A service may rename them or send
 * principal attributes under names of its own; those names are then removed from the client's
 * request too (`IdentityHeaderPlan.ownedNames`), so the upstream only ever sees the proxy's copy.
 *
 * Values come from token claims or certificates, so they are checked before they become header
 * text: a value holding CR, LF, NUL or any other control character, or a character that is not
 * a single byte, refuses the request (threats.md, "Header injection from certificate / claim
 * data"). Group names are percent-encoded (RFC 3986 unreserved characters kept) and joined by
 * commas, because real group names contain spaces and commas (`CN=Admins,OU=...`).
 */
import type { Principal } from '../authn/index.js';

/** Principal fields that can become headers, and their default names, in sending order. */
export const kIdentityHeaderNames = {
  credential: 'x-portcullis-credential',
  subject: 'x-portcullis-subject',
  issuer: 'x-portcullis-issuer',
  clientId: 'x-portcullis-client-id',
  scopes: 'x-portcullis-scopes',
  groups: 'x-portcullis-groups',
  spiffeId: 'x-portcullis-spiffe-id',
} as const;

/** A principal field that can become a header. */
export type IdentityField = keyof typeof kIdentityHeaderNames;

/** What one service sends about its caller; built once at start-up by `identityHeaderPlan`. */
export interface IdentityHeaderPlan {
  readonly fields: ReadonlyArray<readonly [IdentityField, string]>;
  /** [attribute name, header name] pairs. */
  readonly attributes: ReadonlyArray<readonly [string, string]>;
  /** Names outside the reserved namespace that this plan sends: removed from inbound requests. */
  readonly ownedNames: ReadonlySet<string>;
}

/** Longest value sent; longer claims are refused rather than cut (a cut id is another id). */
const kMaxValueLength = 1024;

function isSafeValue(value: string): boolean {
  if (value.length > kMaxValueLength) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * The plan for a service: default names with `renames` applied, plus `attributes` (attribute
 * name -> header name). `isReserved` tells which names clients can never set anyway; the others
 * become `ownedNames`. Names must already be valid lower-case header names (the config checks).
 */
export function identityHeaderPlan(renames: Partial<Record<IdentityField, string>>,
  attributes: Readonly<Record<string, string>>, isReserved: (name: string) => boolean):
  IdentityHeaderPlan {
  const fields = (Object.keys(kIdentityHeaderNames) as IdentityField[])
    .map((field) => [field, renames[field] ?? kIdentityHeaderNames[field]] as const);
  const attributePairs = Object.keys(attributes).sort()
    .map((name) => [name, attributes[name] as string] as const);
  const ownedNames = new Set<string>();
  for (const [, name] of [...fields, ...attributePairs]) {
    if (!isReserved(name)) ownedNames.add(name);
  }
  return Object.freeze({ fields, attributes: attributePairs, ownedNames });
}

/** The plan with every default name and no attributes. */
export const kDefaultIdentityPlan: IdentityHeaderPlan = identityHeaderPlan({}, {}, () => true);

function groupsText(groups: readonly string[]): string | undefined {
  if (groups.length === 0) return undefined;
  return groups.map((g) => encodeURIComponent(g)).join(',');
}

function fieldValue(principal: Principal, field: IdentityField): string | undefined {
  switch (field) {
    case 'credential': return principal.kind;
    case 'subject': return principal.subject;
    case 'issuer': return principal.issuer;
    case 'clientId': return principal.clientId;
    case 'scopes': return principal.scopes.length === 0 ? undefined : principal.scopes.join(' ');
    case 'groups': return groupsText(principal.groups);
    case 'spiffeId': return principal.certificate?.spiffeId;
  }
}

/**
 * Lists already built, per plan and principal. Principals are frozen and shared by every
 * request with the same credential (the verified-token cache keeps them), so a repeat request
 * reuses the list instead of checking every value again. Weak on both sides: nothing is kept
 * for a principal nobody holds any more.
 */
const kBuilt = new WeakMap<IdentityHeaderPlan, WeakMap<Principal, readonly string[] | null>>();

/**
 * The identity headers of `principal` under `plan` as a flat [name, value, ...] list (absent
 * fields are left out), or undefined when a value cannot be sent safely. The array is frozen
 * and shared by every request with the same principal: copy it to change it.
 */
export function identityHeaders(principal: Principal,
  plan: IdentityHeaderPlan = kDefaultIdentityPlan): readonly string[] | undefined {
  let byPrincipal = kBuilt.get(plan);
  if (byPrincipal === undefined) kBuilt.set(plan, byPrincipal = new WeakMap());
  const held = byPrincipal.get(principal);
  if (held !== undefined) return held ?? undefined;
  const built = buildIdentityHeaders(principal, plan);
  byPrincipal.set(principal, built === undefined ? null : Object.freeze(built));
  return built;
}

function buildIdentityHeaders(principal: Principal, plan: IdentityHeaderPlan):
  string[] | undefined {
  const out: string[] = [];
  for (const [field, name] of plan.fields) {
    const value = fieldValue(principal, field);
    if (value === undefined) continue;
    if (!isSafeValue(value)) return undefined;
    out.push(name, value);
  }
  for (const [attribute, name] of plan.attributes) {
    const value = principal.attributes[attribute];
    if (value === undefined) continue;
    if (!isSafeValue(value)) return undefined;
    out.push(name, value);
  }
  return out;
}
