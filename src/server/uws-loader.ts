/**
 * Loads the native uWebSockets.js build, and refuses its JavaScript fallback unless asked.
 *
 * The registry package we use (@trufflesuite/uws-js-unofficial, aliased as `uWebSockets.js`)
 * silently falls back to a slow pure-JavaScript server when its native binary does not load for
 * this platform and Node ABI. We load the binary ourselves so that a failure is an error at
 * start-up (IAM_SERVER_UWS_FALLBACK) rather than a quiet tenfold slowdown.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as uws from 'uWebSockets.js';
import { PortcullisError } from '../errors/index.js';

/** The uWebSockets.js module namespace, as its typings describe it. */
export type UWS = typeof uws;

/** What was loaded: the module, and whether it is the native build. */
export interface LoadedUWS {
  readonly uws: UWS;
  readonly isNative: boolean;
  readonly binary: string;
}

const kRequire = createRequire(import.meta.url);

/** Path of the native binary the package ships for this platform and Node ABI. */
export function nativeBinaryPath(): string {
  const root = path.dirname(kRequire.resolve('uWebSockets.js/package.json'));
  return path.join(root, 'binaries',
    `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
}

/**
 * Load uWebSockets.js. Throws PortcullisError(IAM_SERVER_UWS_FALLBACK) when the native binary
 * cannot load and `allowFallback` is false. `binary` exists for tests that simulate a platform
 * without a native build.
 */
export function loadUWS(allowFallback: boolean, binary = nativeBinaryPath()): LoadedUWS {
  // Step 1: the native build for this platform and Node ABI.
  try {
    const native = kRequire(binary) as UWS;
    if (isNativeFunction(native.App)) return { uws: native, isNative: true, binary };
  } catch (err) {
    if (!allowFallback) {
      throw new PortcullisError('IAM_SERVER_UWS_FALLBACK',
        `Tried ${binary}: ${(err as Error).message}. Set uws.allowFallback: true to run slowly.`);
    }
  }

  // Step 2: the package's own loader, which may hand back the JavaScript fallback.
  if (!allowFallback) {
    throw new PortcullisError('IAM_SERVER_UWS_FALLBACK', `${binary} is not a native module.`);
  }
  const pkg = kRequire('uWebSockets.js') as UWS;
  return { uws: pkg, isNative: isNativeFunction(pkg.App), binary };
}

function isNativeFunction(fn: unknown): boolean {
  return typeof fn === 'function' && /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn));
}
