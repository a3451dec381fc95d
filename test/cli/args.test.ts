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

  test('serve takes --config, --port, --admin-port and --allow-uws-fallback', () => {
    assert.deepEqual(parseArgs(['serve', '--config', 'a.yaml', '--port=0', '--admin-port', '9',
      '--allow-uws-fallback']), {
      kind: 'serve', configPath: 'a.yaml', proxyPort: 0, adminPort: 9, allowUwsFallback: true,
    });
  });

  const kErrors: ReadonlyArray<readonly [string[], string]> = [
    [['serve', '--config'], 'a flag without its value is refused'],
    [['serve', '--port', '65536'], 'ports above 65535 are refused'],
    [['serve', '--port', '-1'], 'signed ports are refused'],
    [['serve', 'extra'], 'stray positional arguments are refused'],
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
