/**
 * One generated policy, written for each engine, and one set of requests.
 *
 * Shape (N rules over 10 services, 20 roles, 4 methods): rule i is on service svc(i % 10),
 * method M[i % 4], resource `res{i}`, for role(i % 20). Even rules are RBAC only
 * (`/res{i}/*`); odd rules also require the `tenant` claim to equal the path's tenant segment
 * (`/res{i}/{tenant}/*`); every 25th rule adds a deny for role((i + 1) % 20) on `/res{i}/**`
 * (deny overrides). Principals get roles through groups g0..g19, two each, and a tenant t0..t4.
 * Requests aim at a random rule's resource; about half are allowed.
 *
 * The Cedar and casbin versions express the same decisions with their own idioms: Cedar
 * `principal in Role::...`, `like` and `context`; casbin RBAC with `keyMatch2`. The path's
 * tenant segment is passed to both as a request field (the host's job there, like our encoder).
 */
import type { AuthzRequest } from '../../../src/authz/index.js';

const kMethods = ['GET', 'POST', 'PUT', 'DELETE'] as const;
const kRoles = 20;
const kServices = 10;
const kTenants = 5;

/** A request in every engine's form, built before timing. */
export interface GeneratedRequest {
  readonly portcullis: AuthzRequest;
  readonly cedar: object;
  readonly casbin: readonly string[];
}

/** The generated policy in each engine's language, plus the requests. */
export interface GeneratedPolicy {
  readonly yaml: string;
  readonly cedarPolicies: string;
  readonly casbinModel: string;
  /** casbin `p` lines as arrays (policy) and `g` lines (user -> role). */
  readonly casbinPolicies: readonly string[][];
  readonly casbinGroupings: readonly string[][];
  readonly requests: readonly GeneratedRequest[];
}

/** A small deterministic PRNG (mulberry32), so every run sees the same requests. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const kCasbinModel = `[request_definition]
r = sub, svc, act, path, tenant, ptenant

[policy_definition]
p = sub, svc, act, path, tcheck, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && r.svc == p.svc && (p.act == "*" || r.act == p.act) && keyMatch2(r.path, p.path) && (p.tcheck == "no" || r.tenant == r.ptenant)
`;

/** Generates the policy with `rules` rules and `count` requests. */
export function generatePolicy(rules: number, count: number, seed: number): GeneratedPolicy {
  const yaml: string[] = ['version: 1', 'roles:'];
  for (let r = 0; r < kRoles; r++) yaml.push(`  role${r}: {}`);
  yaml.push('assignments:');
  for (let r = 0; r < kRoles; r++) yaml.push(`  - { role: role${r}, groups: [g${r}] }`);
  yaml.push('rules:');
  const cedar: string[] = [];
  const casbinPolicies: string[][] = [];

  for (let i = 0; i < rules; i++) {
    const svc = `svc${i % kServices}`;
    const method = kMethods[i % 4]!;
    const role = `role${i % kRoles}`;
    const isTenant = i % 2 === 1;
    const path = isTenant ? `/res${i}/{tenant}/*` : `/res${i}/*`;
    const when = isTenant ? ', when: { claim: tenant, equals: { path: tenant } }' : '';
    yaml.push(`  - { id: r${i}, effect: allow, who: { roles: [${role}] }, services: [${svc}], ` +
      `methods: [${method}], paths: ['${path}']${when} }`);
    cedar.push(`@id("r${i}") permit(principal in Role::"${role}", action == Action::"${method}", ` +
      `resource) when { context.service == "${svc}" && context.path like "/res${i}/*` +
      `${isTenant ? '/*" && context.ptenant == principal.tenant' : '"'} };`);
    casbinPolicies.push([role, svc, method, isTenant ? `/res${i}/:tenant/*` : `/res${i}/*`,
      isTenant ? 'yes' : 'no', 'allow']);
    if (i % 25 === 0) {
      const denied = `role${(i + 1) % kRoles}`;
      yaml.push(`  - { id: d${i}, effect: deny, who: { roles: [${denied}] }, services: [${svc}], ` +
        `paths: ['/res${i}/**'] }`);
      cedar.push(`@id("d${i}") forbid(principal in Role::"${denied}", action, resource) when ` +
        `{ context.service == "${svc}" && context.path like "/res${i}/*" };`);
      casbinPolicies.push([denied, svc, '*', `/res${i}/*`, 'no', 'deny']);
    }
  }

  // Requests: a random rule's resource, a principal with two groups and a tenant.
  const rand = random(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const requests: GeneratedRequest[] = [];
  const groupings = new Map<string, string[]>();
  for (let k = 0; k < count; k++) {
    const i = int(rules);
    // Most principals hold the rule's role and most tenants match, so allows and every kind of
    // deny (role, tenant, method, deny rule) all occur.
    const a = rand() < 0.7 ? i % kRoles : int(kRoles);
    const b = (a + 1 + int(kRoles - 1)) % kRoles;
    const tenant = `t${int(kTenants)}`;
    const ptenant = rand() < 0.7 ? tenant : `t${int(kTenants)}`;
    const path = i % 2 === 1 ? `/res${i}/${ptenant}/item${k}` : `/res${i}/item${k}`;
    const method = kMethods[rand() < 0.8 ? i % 4 : int(4)]!;
    const service = `svc${i % kServices}`;
    const user = `u-${a}-${b}-${tenant}`;
    groupings.set(user, [`role${a}`, `role${b}`]);
    requests.push({
      portcullis: {
        service, method, path, headers: ['host', 'api.example.com', 'accept', '*/*'],
        sourceAddress: '10.1.2.3', nowMs: Date.UTC(2026, 0, 1, 12),
        principal: { kind: 'jwt', subject: user, clientId: 'bench', scopes: ['read'],
          groups: [`g${a}`, `g${b}`], attributes: { tenant }, certificate: undefined },
      },
      cedar: {
        principal: { type: 'User', id: user },
        action: { type: 'Action', id: method },
        resource: { type: 'Resource', id: 'r' },
        context: { service, path, ptenant: i % 2 === 1 ? ptenant : '' },
        preparsedPolicySetId: '',
        entities: [
          { uid: { type: 'User', id: user }, attrs: { tenant },
            parents: [{ type: 'Role', id: `role${a}` }, { type: 'Role', id: `role${b}` }] },
          { uid: { type: 'Role', id: `role${a}` }, attrs: {}, parents: [] },
          { uid: { type: 'Role', id: `role${b}` }, attrs: {}, parents: [] },
        ],
      },
      casbin: [user, service, method, path, tenant, i % 2 === 1 ? ptenant : ''],
    });
  }
  const casbinGroupings = [...groupings].flatMap(([user, roles]) => roles.map((r) => [user, r]));
  return {
    yaml: `${yaml.join('\n')}\n`, cedarPolicies: cedar.join('\n'), casbinModel: kCasbinModel,
    casbinPolicies, casbinGroupings, requests,
  };
}
