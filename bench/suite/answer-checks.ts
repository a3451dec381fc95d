/**
 * The checks before load of the suite's authorization targets: a target must allow the bench
 * request and refuse what its policy or ACLs do not allow, or it is not measured (a target that
 * lets everything through must not look fast). On top of the authn bench's checks (valid token
 * forwarded, no token and a tampered token 401), a valid token on a path no rule allows and a
 * valid token without the scope that grants the role must both answer 403.
 */
import { request } from 'node:http';

import { checkAuthn, getWithToken } from '../e2e/authn-targets.js';
import { decisionCheckHeaders, kAuthzPolicy } from '../scenarios-suite.js';

/** Tokens the checks use: the bench token, and one of the same key without the scope. */
export interface CheckTokens {
  valid: string;
  withoutScope: string;
}

/** Checks an authorizing proxy (Portcullis, HAProxy, fastify) on `port`; undefined if all hold. */
export async function checkAuthz(port: number, tokens: CheckTokens): Promise<string | undefined> {
  const authn = await checkAuthn(port, kAuthzPolicy.path, tokens.valid);
  if (authn !== undefined) return authn;

  const cases = [
    ['a valid token on a path no rule allows', kAuthzPolicy.deniedPath, tokens.valid],
    [`a valid token without the scope ${kAuthzPolicy.scope}`, kAuthzPolicy.path,
      tokens.withoutScope],
  ] as const;
  for (const [what, path, token] of cases) {
    const answer = await getWithToken(port, path, token);
    if (answer.status !== 403) return `GET ${path} with ${what} answered ${answer.status}, not 403`;
  }
  return undefined;
}

/**
 * Checks the decision listener on `port` with nginx `auth_request` headers: the bench token is
 * allowed (200), no token is asked for credentials (401), a token without the scope refused
 * (403).
 */
export async function checkDecision(port: number, tokens: CheckTokens):
  Promise<string | undefined> {
  const cases = [
    ['the bench token', tokens.valid, 200],
    ['no token', undefined, 401],
    ['a token without the scope', tokens.withoutScope, 403],
  ] as const;
  for (const [what, token, expected] of cases) {
    const status = await checkStatus(port, decisionCheckHeaders(token));
    if (status !== expected) {
      return `a decision check with ${what} answered ${status}, not ${expected}`;
    }
  }
  return undefined;
}

/** One GET / with `headers` (`Name: value`) over a fresh connection; its status, -1 on error. */
function checkStatus(port: number, headers: readonly string[]): Promise<number> {
  const fields: Record<string, string> = {};
  for (const line of headers) {
    const colon = line.indexOf(':');
    fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: fields, agent: false,
      timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? -1));
      res.on('error', () => resolve(-1));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', () => resolve(-1));
    req.end();
  });
}
