/**
 * Loads the AssemblyScript-built evaluator module and checks its ABI version.
 *
 * The decision-tree walk itself arrives with the policy engine; what holds already is the
 * contract: the host refuses a module whose memory layout version it was not written for
 * (see assembly/README.md), so a stale build can never evaluate policy.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The memory-layout version this host writes. Must equal the module's `abiVersion()`. */
export const kEvaluatorAbiVersion = 1;

/** The slice of the WebAssembly JS API used here (the Node 20 typings do not declare it). */
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: WasmInstance }>;
}
const kWasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A loaded evaluator module. */
export interface EvaluatorModule {
  readonly abiVersion: number;
  readonly instance: WasmInstance;
}

const kDefaultWasmUrl = new URL('../../../build/evaluator.wasm', import.meta.url);

/**
 * Compiles and instantiates the evaluator. Throws an Error naming the file when the module is
 * missing (run `npm run build:wasm`) or its ABI version differs from `kEvaluatorAbiVersion`.
 */
export async function loadEvaluator(wasmPath = fileURLToPath(kDefaultWasmUrl)):
  Promise<EvaluatorModule> {
  const bytes = await readFile(wasmPath);
  const { instance } = await kWasm.instantiate(bytes, {});
  const abiVersion = (instance.exports.abiVersion as () => number)();
  if (abiVersion !== kEvaluatorAbiVersion) {
    throw new Error(`${wasmPath}: evaluator ABI ${abiVersion}, host expects ${kEvaluatorAbiVersion}`);
  }
  return { abiVersion, instance };
}
