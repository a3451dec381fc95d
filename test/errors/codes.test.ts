/**
 * The error-code registry and the README's error table must agree in both directions, and every
 * code must follow the naming rule and carry a sane status. A code is permanent: a retired code
 * may never come back.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { kErrorCodes, kRetiredCodes, PortcullisError } from '../../src/errors/index.js';

const kReadme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** Rows of the README table under "## Error codes": `| `CODE` | status | reason | ... |`. */
function readmeCodes(): Map<string, { status: number; reason: string }> {
  const section = kReadme.split(/^## /m).find((s) => s.startsWith('Error codes')) ?? '';
  const rows = new Map<string, { status: number; reason: string }>();
  for (const line of section.split('\n')) {
    const m = /^\| `(IAM_[A-Z0-9_]+)` \| (\d{3}) \| `([a-z0-9_]+)` \|/.exec(line);
    if (m !== null) rows.set(m[1]!, { status: Number(m[2]), reason: m[3]! });
  }
  return rows;
}

describe('errors/codes', () => {
  test('every registry code is in the README table with the same status and reason', () => {
    const rows = readmeCodes();
    for (const [code, spec] of Object.entries(kErrorCodes)) {
      assert.deepEqual(rows.get(code), { status: spec.status, reason: spec.reason }, code);
    }
  });

  test('every README row names a code that exists in the registry', () => {
    for (const code of readmeCodes().keys()) assert.ok(code in kErrorCodes, code);
  });

  test('codes follow IAM_<AREA>_<CONDITION>, reasons are unique snake_case', () => {
    const reasons = new Set<string>();
    for (const [code, spec] of Object.entries(kErrorCodes)) {
      assert.match(code, /^IAM_[A-Z]+_[A-Z0-9_]+$/);
      assert.match(spec.reason, /^[a-z][a-z0-9_]*$/);
      assert.ok(!reasons.has(spec.reason), `reason ${spec.reason} reused`);
      reasons.add(spec.reason);
      assert.ok(spec.status >= 400 && spec.status <= 599, `${code} status ${spec.status}`);
    }
  });

  test('a retired code is never live again', () => {
    for (const code of kRetiredCodes) assert.ok(!(code in kErrorCodes), code);
  });

  test('PortcullisError carries its code and status, and instanceof works by brand', () => {
    const err = new PortcullisError('IAM_ROUTING_NO_ROUTE', 'detail');
    assert.equal(err.code, 'IAM_ROUTING_NO_ROUTE');
    assert.equal(err.status, 404);
    const lookalike = Object.create(Object.getPrototypeOf(err) as object) as object;
    assert.ok(lookalike instanceof PortcullisError);
    assert.ok(!(new Error('x') instanceof PortcullisError));
  });
});
