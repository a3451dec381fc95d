/**
 * Command-line parsing: every accepted form, and the usage errors a user can make.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs, UsageError } from '../../src/cli/args.js';

describe('cli/args', () => {
  test('no arguments means help', () => {
    assert.deepEqual(parseArgs([]), { kind: 'help' });
  });

  test('serve takes --config, --port, --admin-port, --threads and --allow-uws-fallback', () => {
    assert.deepEqual(parseArgs(['serve', '--config', 'a.yaml', '--port=0', '--admin-port', '9',
      '--threads', '3', '--allow-uws-fallback']), {
      kind: 'serve', configPath: 'a.yaml', proxyPort: 0, adminPort: 9, threads: 3,
      allowUwsFallback: true,
    });
  });

  test('serve --threads auto leaves the count to the CPUs the process may use', () => {
    const cmd = parseArgs(['serve', '--threads=auto']);
    assert.equal(cmd.kind === 'serve' && cmd.threads, 'auto');
  });

  const kErrors: ReadonlyArray<readonly [string[], string]> = [
    [['serve', '--config'], 'a flag without its value is refused'],
    [['serve', '--port', '65536'], 'ports above 65535 are refused'],
    [['serve', '--port', '-1'], 'signed ports are refused'],
    [['serve', 'extra'], 'stray positional arguments are refused'],
    [['serve', '--threads', '0'], 'at least one serving thread'],
    [['serve', '--threads', '65'], 'at most 64 serving threads'],
    [['serve', '--threads', 'two'], 'a thread count is a number or auto'],
    [['serve', '--allow-uws-fallback=yes'], 'a boolean flag takes no value'],
    [['check-config', 'a', 'b'], 'check-config takes exactly one file'],
    [['--help', 'x'], 'help takes no arguments'],
    [['deploy'], 'unknown commands are refused'],
  ];
  for (const [argv, why] of kErrors) {
    test(`${argv.join(' ')}: ${why}`, () => {
      assert.throws(() => parseArgs(argv), UsageError);
    });
  }
});
