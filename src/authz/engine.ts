/**
 * The WebAssembly policy engine: one evaluator instance per bundle.
 *
 * Loading a bundle: check the module's ABI version, instantiate it, grow its memory to hold the
 * tree image, copy the image to `kMem.tree`, build the string-to-id map, and precompute one frozen
 * `Decision` per possible result code. Deciding: encode the request into memory, make one call,
 * and index the decision table with the returned code. Nothing on that path allocates (apart from
 * the encoder's notes) or calls back into JavaScript.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { DecodedBundle } from '../policy/index.js';
import { kMem } from './memory-layout.js';
import { RequestEncoder } from './request-encoder.js';
import type { AuthzRequest, Decision } from './request.js';

/** The memory-layout version this host writes. Must equal the module's `abiVersion()`. */
export const kEvaluatorAbiVersion = 2;

/** The slice of the WebAssembly JS API used here (the Node 20 typings do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}
const kWasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const kPageBytes = 65536;

/** A compiled evaluator module, checked for its ABI version; instantiated once per bundle. */
export interface EvaluatorModule {
  readonly abiVersion: number;
  readonly module: object;
}

const kDefaultWasmUrl = new URL('../../../build/evaluator.wasm', import.meta.url);

/**
 * Compiles the evaluator. Throws an Error naming the file when the module is missing (run
 * `npm run build:wasm`) or its ABI version differs from `kEvaluatorAbiVersion`.
 */
export async function loadEvaluator(wasmPath = fileURLToPath(kDefaultWasmUrl)):
  Promise<EvaluatorModule> {
  const bytes = await readFile(wasmPath);
  const module = new kWasm.Module(bytes);
  const probe = new kWasm.Instance(module, {});
  const abiVersion = (probe.exports.abiVersion as () => number)();
  if (abiVersion !== kEvaluatorAbiVersion) {
    throw new Error(`${wasmPath}: evaluator ABI ${abiVersion}, host expects ${kEvaluatorAbiVersion}`);
  }
  return { abiVersion, module };
}

/** A frozen decision that no rule made. */
function refusal(bundle: DecodedBundle, ruleId: string, code: Decision['code'],
  credentialsMayHelp: boolean): Decision {
  return Object.freeze({
    allow: false, ruleIndex: -1, ruleId, obligations: Object.freeze([]) as readonly string[],
    bundleVersion: bundle.meta.policyVersion, bundleDigest: bundle.meta.sourceDigest, code,
    credentialsMayHelp,
  });
}

/** Decision for each result code: 0 default deny, (i+1)<<1 deny by i, ((i+1)<<1)|1 allow by i. */
function decisionTable(bundle: DecodedBundle): Decision[] {
  const table: Decision[] = [refusal(bundle, 'default-deny', 'IAM_AUTHZ_DENIED', true),
    refusal(bundle, 'default-deny', 'IAM_AUTHZ_DENIED', true)];
  for (const rule of bundle.policy.rules) {
    const base = {
      ruleIndex: rule.index, ruleId: rule.id, bundleVersion: bundle.meta.policyVersion,
      bundleDigest: bundle.meta.sourceDigest,
    };
    table.push(Object.freeze({
      ...base, allow: false, obligations: Object.freeze([]) as readonly string[],
      code: 'IAM_AUTHZ_DENIED' as const,
      credentialsMayHelp: !rule.subjects.some((s) => s.kind === 'anyone'),
    }));
    table.push(Object.freeze({
      ...base, allow: true, obligations: Object.freeze(rule.obligations.flat()), code: undefined,
      credentialsMayHelp: false,
    }));
  }
  return table;
}

/** One bundle loaded into its own evaluator instance. */
export class PolicyEngine {
  readonly bundle: DecodedBundle;
  /** Every header name an obligation of this bundle sets (lower-case, `_` as `-`): the proxy
   * removes client-sent copies of them, so the upstream sees only the policy's. */
  readonly obligationNames: ReadonlySet<string>;
  readonly #evaluate: () => number;
  readonly #encoder: RequestEncoder;
  readonly #decisions: Decision[];
  readonly #tooComplex: Decision;
  readonly #failed: Decision;

  /** Instantiates `module` for `bundle`. Throws when the memory cannot grow to fit the tree. */
  constructor(module: EvaluatorModule, bundle: DecodedBundle) {
    const instance = new kWasm.Instance(module.module, {});
    const memory = instance.exports.memory as WasmMemory;
    const needBytes = kMem.tree + bundle.tree.byteLength;
    const havePages = memory.buffer.byteLength / kPageBytes;
    const needPages = Math.ceil(needBytes / kPageBytes);
    if (needPages > havePages) memory.grow(needPages - havePages);
    new Uint32Array(memory.buffer, kMem.tree, bundle.tree.length).set(bundle.tree);

    this.bundle = bundle;
    this.obligationNames = new Set(bundle.policy.rules.flatMap((r) =>
      r.obligations.map(([name]) => name.replaceAll('_', '-'))));
    this.#evaluate = instance.exports.evaluate as () => number;
    this.#encoder = new RequestEncoder(bundle, memory.buffer);
    this.#decisions = decisionTable(bundle);
    this.#tooComplex = refusal(bundle, 'request-limits', 'IAM_AUTHZ_REQUEST_LIMITS', false);
    this.#failed = refusal(bundle, 'evaluator-failed', 'IAM_AUTHZ_EVALUATOR_FAILED', false);
  }

  /** Policy version and source digest of the bundle this engine evaluates. */
  get version(): number {
    return this.bundle.meta.policyVersion;
  }

  get digest(): string {
    return this.bundle.meta.sourceDigest;
  }

  /**
   * Decides on `req`. Never throws: a request beyond the evaluator's limits is refused with
   * `IAM_AUTHZ_REQUEST_LIMITS`, a trap (a bug) with `IAM_AUTHZ_EVALUATOR_FAILED`.
   */
  decide(req: AuthzRequest): Decision {
    try {
      if (!this.#encoder.encode(req)) return this.#tooComplex;
      return this.#decisions[this.#evaluate()] ?? this.#failed;
    } catch {
      return this.#failed;
    }
  }
}
