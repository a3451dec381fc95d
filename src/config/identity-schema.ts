/**
 * Field rules of a service's `identity` block: which header names may carry the principal.
 *
 * A renamed identity header is a name the proxy then owns for that service: the client's copy is
 * removed before forwarding. Names that frame or route the request, or carry the client's own
 * credentials, can therefore never be used: owning them would break the request or hide the
 * credential the proxy checked.
 */
import { z } from 'zod';
import { isHeaderName } from './syntax.js';

const kIdentityHeader = 'expected a lower-case HTTP header name such as "x-user-id"';

/** Names an identity header may not take (RFC 9110 framing, routing and credential fields). */
const kRefusedNames: ReadonlySet<string> = new Set([
  'host', 'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'connection',
  'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
  'content-length', 'content-type', 'content-encoding', 'content-range', 'range', 'via',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'x-portcullis-jwt',
]);

/** One identity header name: a valid, lower-case name that is not in `kRefusedNames`. */
export function identityHeaderName() {
  return z.string({ error: kIdentityHeader }).superRefine((name, ctx) => {
    if (name !== name.toLowerCase() || !isHeaderName(name)) {
      ctx.addIssue({ code: 'custom', message: `${kIdentityHeader}, got ${JSON.stringify(name)}` });
    } else if (kRefusedNames.has(name)) {
      ctx.addIssue({ code: 'custom', message: `"${name}" frames, routes or authenticates the ` +
        'request and cannot carry identity; choose another name' });
    }
  });
}

interface IdentityNames {
  readonly headerNames: Readonly<Record<string, string | undefined>>;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Two fields or attributes of one service must not share a header name. */
export function checkIdentityNames(identity: IdentityNames, ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  const claim = (name: string, path: PropertyKey[]): void => {
    const other = seen.get(name);
    if (other !== undefined) {
      const message = `header "${name}" is already used by ${other}`;
      ctx.addIssue({ code: 'custom', path, message });
    }
    seen.set(name, path.join('.'));
  };
  for (const [field, name] of Object.entries(identity.headerNames)) {
    if (name !== undefined) claim(name, ['headerNames', field]);
  }
  for (const [attribute, name] of Object.entries(identity.attributes)) {
    claim(name, ['attributes', attribute]);
  }
}
