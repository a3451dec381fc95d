/**
 * The policy stage of start-up: the holder of the active bundle, the activator, and the bundle
 * sources the configuration names (a watched file, a polled URL, admin pushes).
 *
 * Without a `policy` block the proxy compiles a policy from each service's `access` (`public`:
 * anyone; `authenticated`: any verified credential), signs it with an Ed25519 key made for this
 * process only and activates it through the same verification as any bundle, so one code path
 * decides every request. The private key is never written anywhere.
 */
import { generateKeyPairSync } from 'node:crypto';
import { stringify } from 'yaml';
import { type EvaluatorModule, PolicyHolder } from '../authz/index.js';
import type { Config } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import { bundleVerifyKey, compilePolicy, signBundle } from '../policy/index.js';
import type { Logger } from '../telemetry/index.js';
import { type ActivationResult, type ActivationStats, BundleActivator } from './bundle-activator.js';
import { type BundleSource, startFileSource } from './bundle-source-file.js';
import { startHttpSource } from './bundle-source-http.js';
import { readFile } from 'node:fs/promises';

/** The running policy stage. */
export interface PolicyStage {
  readonly holder: PolicyHolder;
  /** Activates a pushed bundle; undefined unless `policy.allowPush`. */
  readonly push: ((bytes: Uint8Array, signature: string | undefined) => Promise<ActivationResult>)
    | undefined;
  /** Facts for /readyz. */
  status(): Record<string, unknown>;
  activations(): ActivationStats;
  stop(): void;
}

/** The policy equivalent of the services' `access` settings. */
export function accessPolicySource(services: Config['services']): string {
  return stringify({
    version: 1,
    rules: services.map((s) => ({
      id: `${s.name}-${s.access ?? 'authenticated'}`,
      effect: 'allow',
      who: s.access === 'public' ? 'anyone' : 'authenticated',
      services: [s.name],
      paths: ['/**'],
    })),
  }, { aliasDuplicateObjects: false }); // policy files take no aliases (src/policy/yaml-tree.ts)
}

/**
 * Starts the stage. With sources, waits for each one's first attempt before returning.
 * `onActivated` hears of every activated bundle (its verified bytes and source).
 */
export async function startPolicyStage(config: Config, evaluator: EvaluatorModule,
  logger: Logger, onActivated?: (bytes: Uint8Array, source: string) => void):
  Promise<PolicyStage> {
  const holder = new PolicyHolder();
  const sources: BundleSource[] = [];
  let activator: BundleActivator;
  let mode: string;

  if (config.policy === undefined) {
    // Step 1a: the embedded policy, from `access`, signed with a key that lives in memory only.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    activator = new BundleActivator(holder, evaluator,
      [bundleVerifyKey(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'ephemeral')],
      logger, onActivated);
    const compiled = compilePolicy([{ name: 'access.yaml', text: accessPolicySource(config.services) }],
      { createdAtMs: Date.now(), compiler: 'portcullis (from access)' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const result = await activator.offer(compiled.bytes, await signBundle(compiled.bytes, pem, 'ephemeral'),
      'embedded:access');
    if (!result.ok) throw new PortcullisError(result.code, `embedded policy: ${result.detail}`);
    mode = 'embedded';
  } else {
    // Step 1b: configured keys and sources.
    const p = config.policy;
    let keys;
    try {
      keys = await Promise.all(p.publicKeys.map(async (file) =>
        bundleVerifyKey(await readFile(file, 'utf8'))));
    } catch (err) {
      throw new PortcullisError('IAM_CONFIG_INVALID', `policy.publicKeys: ${(err as Error).message}`);
    }
    activator = new BundleActivator(holder, evaluator, keys, logger, onActivated);
    if (p.file !== undefined) {
      sources.push(startFileSource({ path: p.file, signaturePath: p.signatureFile,
        intervalMs: p.pollIntervalMs, activator }));
    }
    if (p.url !== undefined) {
      sources.push(startHttpSource({ url: p.url, signatureUrl: p.signatureUrl,
        intervalMs: p.pollIntervalMs, maxBackoffMs: p.maxBackoffMs, activator }));
    }
    await Promise.all(sources.map((s) => s.ready));
    if (holder.engine === undefined) {
      logger.warn('no policy bundle is active yet: every request is refused until one is',
        { code: 'IAM_AUTHZ_NO_POLICY' });
    }
    mode = 'bundle';
  }

  const a = activator;
  return {
    holder,
    push: config.policy?.allowPush === true ? (bytes, signature) => a.offer(bytes, signature, 'push')
      : undefined,
    status: () => {
      const s = holder.status();
      return { mode, active: s.active ?? null, swaps: s.swaps, ...a.stats() };
    },
    activations: () => a.stats(),
    stop: () => sources.forEach((s) => s.stop()),
  };
}
