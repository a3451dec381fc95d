/**
 * Command-line parsing for `portcullis`. Small and strict: unknown commands and flags are usage
 * errors (exit code 2) with a message naming what was not understood.
 */

/** A parsed command line. */
export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly configPath: string | undefined;
    readonly proxyPort: number | undefined; readonly adminPort: number | undefined;
    readonly threads: number | 'auto' | undefined; readonly allowUwsFallback: boolean }
  | { readonly kind: 'check-config'; readonly configPath: string }
  | { readonly kind: 'compile'; readonly dir: string; readonly out: string;
    readonly createdAt: string | undefined; readonly policyVersion: number | undefined }
  | { readonly kind: 'sign'; readonly bundle: string; readonly key: string;
    readonly out: string | undefined; readonly kid: string | undefined }
  | { readonly kind: 'test'; readonly dir: string; readonly cases: string | undefined }
  | { readonly kind: 'explain'; readonly dir: string; readonly casesFile: string;
    readonly name: string | undefined };

/** A command line that could not be understood. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const kUsage = `Usage: portcullis <command> [options]

Commands:
  serve [--config FILE]      Run the proxy. Without --config, runs the embedded demo on 127.0.0.1
        [--port N]           Override the proxy listener port
        [--admin-port N]     Override the admin listener port
        [--threads N|auto]   Event loops serving the proxy port (default: config, else auto)
        [--allow-uws-fallback]  Start even if uWebSockets.js falls back to its slow JS build
  check-config FILE          Validate FILE and print the effective configuration (secrets redacted)
  compile DIR -o BUNDLE      Compile the policy in DIR to a bundle
        [--created-at TIME]  Creation time (RFC 3339 or epoch seconds; default SOURCE_DATE_EPOCH
                             or now): the same sources and time give the same bytes
        [--policy-version N] Override the version the sources declare
  sign BUNDLE --key KEY      Write BUNDLE.jws, a detached JWS (EdDSA or ES256 by the key)
        [-o FILE] [--kid ID]
  test DIR [--cases DIR]     Run the policy's test cases (default DIR/tests/*.yaml)
  explain DIR CASES [--name NAME]  Show for each case which rules applied and why not

Options:
  -h, --help                 Show this help
  -v, --version              Show the version

Exit codes: 0 ok, 1 runtime failure, policy errors or failed policy tests, 2 usage or
configuration error.
`;

function parsePort(flag: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`${flag} expects a port from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function parseThreads(value: string | undefined): number | 'auto' {
  if (value === 'auto') return 'auto';
  if (value === undefined || !/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > 64) {
    throw new UsageError(`--threads expects auto or an integer from 1 to 64, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Parses `argv` (without node and the script). Throws UsageError on anything unknown. */
export function parseArgs(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    return { kind: 'help' };
  }
  if (first === '-v' || first === '--version') return { kind: 'version' };

  if (first === 'serve') {
    let configPath: string | undefined;
    let proxyPort: number | undefined;
    let adminPort: number | undefined;
    let threads: number | 'auto' | undefined;
    let allowUwsFallback = false;
    for (let i = 0; i < rest.length; i++) {
      const arg = rest[i] as string;
      const [flag, inline] = arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
      const value = (): string | undefined => inline ?? rest[++i];
      if (flag === '--config' || flag === '-c') {
        configPath = value();
        if (configPath === undefined || configPath === '') throw new UsageError('--config needs a file');
      } else if (flag === '--port') {
        proxyPort = parsePort('--port', value());
      } else if (flag === '--admin-port') {
        adminPort = parsePort('--admin-port', value());
      } else if (flag === '--threads') {
        threads = parseThreads(value());
      } else if (flag === '--allow-uws-fallback' && inline === undefined) {
        allowUwsFallback = true;
      } else {
        throw new UsageError(`unknown option for serve: ${JSON.stringify(arg)}`);
      }
    }
    return { kind: 'serve', configPath, proxyPort, adminPort, threads, allowUwsFallback };
  }

  if (first === 'check-config') {
    const [file, extra] = rest;
    if (file === undefined || file.startsWith('-')) {
      throw new UsageError('check-config needs a FILE');
    }
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    return { kind: 'check-config', configPath: file };
  }

  if (first === 'compile' || first === 'sign' || first === 'test' || first === 'explain') {
    return parsePolicyCommand(first, rest);
  }

  throw new UsageError(`unknown command ${JSON.stringify(first)}`);
}

/** Flags and positional arguments of the policy commands. */
function parsePolicyCommand(kind: 'compile' | 'sign' | 'test' | 'explain',
  rest: readonly string[]): Command {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  const kFlags: Record<string, readonly string[]> = {
    compile: ['-o', '--output', '--created-at', '--policy-version'],
    sign: ['--key', '-o', '--output', '--kid'],
    test: ['--cases'],
    explain: ['--name'],
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!kFlags[kind]!.includes(flag)) {
      throw new UsageError(`unknown option for ${kind}: ${JSON.stringify(arg)}`);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : rest[++i];
    if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
    flags.set(flag === '--output' ? '-o' : flag, value);
  }
  const need = kind === 'explain' ? 2 : 1;
  if (positional.length !== need) {
    const what = need === 2 ? 'DIR and CASES' : kind === 'sign' ? 'BUNDLE' : 'DIR';
    throw new UsageError(`${kind} expects ${what}`);
  }
  const [first, second] = positional as [string, string];
  switch (kind) {
    case 'compile': {
      const out = flags.get('-o');
      if (out === undefined) throw new UsageError('compile needs -o BUNDLE');
      const version = flags.get('--policy-version');
      if (version !== undefined && !/^[1-9][0-9]{0,15}$/.test(version)) {
        throw new UsageError('--policy-version expects a positive integer');
      }
      return { kind, dir: first, out, createdAt: flags.get('--created-at'),
        policyVersion: version === undefined ? undefined : Number(version) };
    }
    case 'sign': {
      const key = flags.get('--key');
      if (key === undefined) throw new UsageError('sign needs --key KEY (a PKCS#8 PEM private key)');
      return { kind, bundle: first, key, out: flags.get('-o'), kid: flags.get('--kid') };
    }
    case 'test':
      return { kind, dir: first, cases: flags.get('--cases') };
    case 'explain':
      return { kind, dir: first, casesFile: second, name: flags.get('--name') };
  }
}

/**
 * The creation time for `compile`: `--created-at` (RFC 3339 or epoch seconds), else
 * SOURCE_DATE_EPOCH (epoch seconds, the reproducible-builds convention), else now.
 */
export function resolveCreatedAt(flag: string | undefined, env: NodeJS.ProcessEnv, nowMs: number):
  number {
  const text = flag ?? env.SOURCE_DATE_EPOCH;
  if (text === undefined || text === '') return nowMs;
  if (/^[0-9]{1,12}$/.test(text)) return Number(text) * 1000;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--created-at: ${JSON.stringify(text)} is not a time`);
  return ms;
}
