/**
 * The session table: one entry per sid (else jti, else issuer + subject + client), counts and
 * addresses per entry, bounded size with least-recently-seen eviction, sweeping of idle and
 * expired entries, and filters.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kAnonymous, principalFromClaims, type Principal } from '../../src/authn/index.js';
import {
  AuditRecord, kMaxAddresses, mergeSessionViews, SessionTable, sessionKey,
} from '../../src/audit/index.js';

function principal(claims: Record<string, unknown>): Principal {
  return principalFromClaims('https://idp.test', { exp: 2_000_000_000, ...claims }, 'k1');
}

function seen(table: SessionTable, p: Principal, address = '10.0.0.1', deny = false): void {
  const r = new AuditRecord('proxy', 'id', address, 'GET', 0, 0);
  r.principal = p;
  r.decision = deny ? 'deny' : 'allow';
  table.observe(r);
}

describe('audit/sessions', () => {
  test('keys: sid first, then jti, then issuer + subject + client', () => {
    assert.equal(sessionKey(principal({ sub: 'a', sid: 's', jti: 'j' })), 'sid:https://idp.test\ns');
    assert.equal(sessionKey(principal({ sub: 'a', jti: 'j' })), 'jti:https://idp.test\nj');
    assert.equal(sessionKey(principal({ sub: 'a', client_id: 'c' })), 'sub:https://idp.test\na\nc');
  });

  test('two tokens of one session share its entry; counts and addresses add up', () => {
    const table = new SessionTable({ maxEntries: 10, idleTimeoutMs: 60_000 });
    const first = principal({ sub: 'alice', sid: 's1', jti: 't1' });
    const second = principal({ sub: 'alice', sid: 's1', jti: 't2' });
    seen(table, first, '10.0.0.1');
    seen(table, second, '10.0.0.2');
    seen(table, second, '10.0.0.2', true);
    const [row] = table.list();
    assert.equal(table.size, 1);
    assert.equal(row?.requests, 3);
    assert.equal(row?.denies, 1);
    assert.deepEqual(row?.addresses, ['10.0.0.1', '10.0.0.2']);
    assert.equal(row?.sessionId, 's1');
  });

  test('addresses per entry are capped, so a roaming client cannot grow an entry', () => {
    const table = new SessionTable({ maxEntries: 10, idleTimeoutMs: 60_000 });
    const p = principal({ sub: 'bob' });
    for (let i = 0; i < 50; i++) seen(table, p, `10.0.1.${i}`);
    assert.equal(table.list()[0]?.addresses.length, kMaxAddresses);
  });

  test('anonymous requests and requests without a principal make no entry', () => {
    const table = new SessionTable({ maxEntries: 10, idleTimeoutMs: 60_000 });
    seen(table, kAnonymous);
    table.observe(new AuditRecord('proxy', 'id', '10.0.0.1', 'GET', 0, 0));
    assert.equal(table.size, 0);
  });

  test('at maxEntries the least recently seen entry is evicted', () => {
    let now = 1_000_000;
    const table = new SessionTable({ maxEntries: 3, idleTimeoutMs: 3_600_000, nowMs: () => now });
    const ps = ['a', 'b', 'c', 'd'].map((sub) => principal({ sub }));
    for (const p of ps.slice(0, 3)) { seen(table, p); now += 2_000; }
    seen(table, ps[0]!); // a is now the most recent
    now += 2_000;
    seen(table, ps[3]!);
    assert.deepEqual(table.list().map((r) => r.subject).sort(), ['a', 'c', 'd']);
    seen(table, ps[1]!); // b comes back as a new entry
    assert.equal(table.list().find((r) => r.subject === 'b')?.requests, 1);
  });

  test('sweep removes idle entries and entries whose token has expired', () => {
    let now = 1_000_000_000;
    const table = new SessionTable({ maxEntries: 10, idleTimeoutMs: 60_000, nowMs: () => now });
    seen(table, principalFromClaims('https://idp.test', { sub: 'short', exp: 1_000_010 }, 'k'));
    seen(table, principal({ sub: 'idle' }));
    now += 30_000;
    seen(table, principal({ sub: 'busy' }));
    table.sweep();
    assert.deepEqual(table.list().map((r) => r.subject).sort(), ['busy', 'idle']);
    now += 31_000;
    assert.deepEqual(table.list().map((r) => r.subject), ['busy']);
  });

  test('filters match exactly and limit caps the rows, most recent first', () => {
    let now = 1_000;
    const table = new SessionTable({ maxEntries: 10, idleTimeoutMs: 3_600_000, nowMs: () => now });
    for (const [sub, client] of [['a', 'web'], ['b', 'cli'], ['c', 'web']]) {
      seen(table, principal({ sub, client_id: client }));
      now += 1_000;
    }
    assert.deepEqual(table.list({ clientId: 'web' }).map((r) => r.subject), ['c', 'a']);
    assert.deepEqual(table.list({ subject: 'b' }).map((r) => r.clientId), ['cli']);
    assert.equal(table.list({ limit: 1 })[0]?.subject, 'c');
    assert.equal(table.list({ subject: 'A' }).length, 0, 'subjects are case-sensitive');
  });

  test('latestExpirySec finds what a revocation would name, by kind, value and issuer', () => {
    const table = new SessionTable({ maxEntries: 10, idleTimeoutMs: 60_000 });
    seen(table, principal({ sub: 'a', sid: 's1', exp: 2_000_000_100 }));
    seen(table, principal({ sub: 'a', sid: 's2', exp: 2_000_000_200 }));
    assert.equal(table.latestExpirySec('subject', null, 'a'), 2_000_000_200);
    assert.equal(table.latestExpirySec('session', 'https://idp.test', 's1'), 2_000_000_100);
    assert.equal(table.latestExpirySec('session', 'https://other.test', 's1'), undefined);
    assert.equal(table.latestExpirySec('token', null, 's1'), undefined, 'a sid is not a jti');
  });

  test('mergeSessionViews sums one session seen by several threads, newest first', () => {
    const one = new SessionTable({ maxEntries: 10, idleTimeoutMs: 60_000, nowMs: () => 1_000 });
    const two = new SessionTable({ maxEntries: 10, idleTimeoutMs: 60_000, nowMs: () => 5_000 });
    const p = principal({ sub: 'a', sid: 'shared' });
    seen(one, p, '10.0.0.1');
    seen(two, p, '10.0.0.2', true);
    seen(two, principal({ sub: 'b', sid: 'only-two' }), '10.0.0.3');
    const merged = mergeSessionViews([one.list({ limit: 0 }), two.list({ limit: 0 })], 10);
    assert.equal(merged.length, 2);
    const shared = merged.find((row) => row.sessionId === 'shared');
    assert.equal(shared?.requests, 2);
    assert.equal(shared?.denies, 1);
    assert.deepEqual(shared?.addresses, ['10.0.0.1', '10.0.0.2']);
    assert.equal(shared?.firstSeen, new Date(1_000).toISOString());
    assert.equal(shared?.lastSeen, new Date(5_000).toISOString());
    assert.equal(mergeSessionViews([one.list({ limit: 0 }), two.list({ limit: 0 })], 1).length, 1);
  });
});
