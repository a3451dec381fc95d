/**
 * Policy test cases (`POLICY_DIR/tests/*.yaml`), read for `portcullis test` and `explain`:
 *
 *   cases:
 *     - name: a reader reads its own tenant
 *       request: { service: orders, method: GET, path: /orders/acme/x,
 *                  headers: { x-env: prod }, source: 10.0.0.1, time: '2026-12-02T10:00:00Z' }
 *       principal: { kind: jwt, subject: u1, client: c1, scopes: [orders.read], groups: [],
 *                    claims: { tenant: acme }, spiffe: 'spiffe://...' }
 *       expect: { decision: allow, rule: orders-read }
 *
 * `principal` defaults to anonymous; `source` to 127.0.0.1; `time` to 2026-01-01T12:00:00Z
 * (a Thursday), so cases do not depend on the clock.
 */
import { parse } from 'yaml';
import type { AuthzRequest } from '../authz/index.js';

/** One case: the request and, for `test`, the expected outcome. */
export interface PolicyCase {
  readonly file: string;
  readonly name: string;
  readonly request: AuthzRequest;
  readonly expect: { readonly allow: boolean; readonly rule: string | undefined } | undefined;
}

/** A case file that cannot be read as cases. */
export class CaseFileError extends Error {
  override readonly name = 'CaseFileError';
}

const kDefaultTime = '2026-01-01T12:00:00Z';

function strings(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new CaseFileError(`${where}: expected a list of strings`);
  }
  return value as string[];
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new CaseFileError(`${where}: expected a string`);
  return value;
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CaseFileError(`${where}: expected a mapping`);
  }
  return value as Record<string, unknown>;
}

function parseCase(raw: unknown, file: string, index: number): PolicyCase {
  const c = record(raw, `${file}: case ${index + 1}`);
  const name = optionalString(c.name, `${file}: case ${index + 1}: name`) ?? `case ${index + 1}`;
  const at = `${file}: ${name}`;
  const r = record(c.request, `${at}: request`);
  const p = record(c.principal, `${at}: principal`);
  const kind = optionalString(p.kind, `${at}: principal.kind`) ?? 'anonymous';
  if (kind !== 'jwt' && kind !== 'opaque' && kind !== 'mtls' && kind !== 'session'
    && kind !== 'anonymous') {
    throw new CaseFileError(`${at}: principal.kind must be jwt, opaque, mtls, session or anonymous`);
  }
  const claims = record(p.claims, `${at}: principal.claims`);
  const headers = record(r.headers, `${at}: request.headers`);
  const time = optionalString(r.time, `${at}: request.time`) ?? kDefaultTime;
  const nowMs = Date.parse(time);
  if (Number.isNaN(nowMs)) throw new CaseFileError(`${at}: request.time is not a time`);
  const path = optionalString(r.path, `${at}: request.path`) ?? '/';
  if (!path.startsWith('/')) throw new CaseFileError(`${at}: request.path must start with /`);
  const spiffe = optionalString(p.spiffe, `${at}: principal.spiffe`);

  let expect: PolicyCase['expect'];
  if (c.expect !== undefined) {
    const e = record(c.expect, `${at}: expect`);
    if (e.decision !== 'allow' && e.decision !== 'deny') {
      throw new CaseFileError(`${at}: expect.decision must be allow or deny`);
    }
    expect = { allow: e.decision === 'allow', rule: optionalString(e.rule, `${at}: expect.rule`) };
  }
  return {
    file, name, expect,
    request: {
      service: optionalString(r.service, `${at}: request.service`) ?? '',
      method: (optionalString(r.method, `${at}: request.method`) ?? 'GET').toUpperCase(),
      path,
      headers: Object.entries(headers).flatMap(([k, v]) => [k.toLowerCase(), String(v)]),
      sourceAddress: optionalString(r.source, `${at}: request.source`) ?? '127.0.0.1',
      nowMs,
      principal: {
        kind,
        subject: optionalString(p.subject, `${at}: principal.subject`),
        clientId: optionalString(p.client, `${at}: principal.client`),
        scopes: strings(p.scopes, `${at}: principal.scopes`),
        groups: strings(p.groups, `${at}: principal.groups`),
        attributes: Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, String(v)])),
        certificate: spiffe === undefined ? undefined : { spiffeId: spiffe },
      },
    },
  };
}

/** Reads the cases of one file's text. Throws CaseFileError naming the case at fault. */
export function parseCases(text: string, file: string): PolicyCase[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new CaseFileError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  const top = record(doc, file);
  if (!Array.isArray(top.cases)) throw new CaseFileError(`${file}: expected "cases:" with a list`);
  return top.cases.map((c, i) => parseCase(c, file, i));
}
