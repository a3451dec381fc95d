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
    readonly allowUwsFallback: boolean }
  | { readonly kind: 'check-config'; readonly configPath: string };

/** A command line that could not be understood. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const kUsage = `Usage: portcullis <command> [options]

Commands:
  serve [--config FILE]      Run the proxy. Without --config, runs the embedded demo on 127.0.0.1
        [--port N]           Override the proxy listener port
        [--admin-port N]     Override the admin listener port
        [--allow-uws-fallback]  Start even if uWebSockets.js falls back to its slow JS build
  check-config FILE          Validate FILE and print the effective configuration (secrets redacted)

Options:
  -h, --help                 Show this help
  -v, --version              Show the version

Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
`;

function parsePort(flag: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`${flag} expects a port from 0 to 65535, got ${JSON.stringify(value)}`);
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
      } else if (flag === '--allow-uws-fallback' && inline === undefined) {
        allowUwsFallback = true;
      } else {
        throw new UsageError(`unknown option for serve: ${JSON.stringify(arg)}`);
      }
    }
    return { kind: 'serve', configPath, proxyPort, adminPort, allowUwsFallback };
  }

  if (first === 'check-config') {
    const [file, extra] = rest;
    if (file === undefined || file.startsWith('-')) {
      throw new UsageError('check-config needs a FILE');
    }
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    return { kind: 'check-config', configPath: file };
  }

  throw new UsageError(`unknown command ${JSON.stringify(first)}`);
}
