/**
 * Starts a real Portcullis in the test process from YAML text, on ephemeral ports, with the
 * logger silenced. The proxy is the same code `portcullis serve` runs (src/main.ts).
 */
import { tmpdir } from 'node:os';
import { loadConfigText } from '../../src/config/index.js';
import { startPortcullis, type RunningProxy } from '../../src/main.js';
import { silentLogger } from '../../src/telemetry/index.js';

/** A proxy started for a test. */
export interface TestProxy {
  readonly port: number;
  readonly adminPort: number;
  /** The mTLS listener's port, when the YAML configures `listeners.mtls`. */
  readonly mtlsPort: number | undefined;
  /** The decision listener's port, when the YAML configures `listeners.decision`. */
  readonly decisionPort: number | undefined;
  readonly running: RunningProxy;
  stop(drainTimeoutMs?: number): Promise<boolean>;
}

/**
 * `servicesYaml` is the YAML of the `services:` list (and any other top-level keys the test
 * needs); listeners are put on port 0 unless the text sets them, and audit records go nowhere
 * (`audit: { sink: none }`, so they do not mix with the runner's output) unless it sets `audit`,
 * and one uWS loop serves (`threads: 1`) unless it sets `threads`.
 */
export async function startTestProxy(yaml: string): Promise<TestProxy> {
  const withAudit = /^audit:/m.test(yaml) ? yaml : `audit: { sink: none }\n${yaml}`;
  // One uWS loop unless the test asks for serving threads: its checks read this thread's state.
  const withThreads = /^threads:/m.test(withAudit) ? withAudit : `threads: 1\n${withAudit}`;
  const text = withThreads.includes('listeners:') ? withThreads
    : `listeners:\n  proxy: { host: 127.0.0.1, port: 0 }\n  admin: { host: 127.0.0.1, port: 0 }\n${withThreads}`;
  const config = await loadConfigText(text, 'test.yaml', tmpdir());
  const running = await startPortcullis(config, silentLogger());
  return {
    port: running.proxy.port,
    adminPort: running.admin.port,
    mtlsPort: running.mtls?.port,
    decisionPort: running.decision?.port,
    running,
    stop: (ms = 2000) => running.stop(ms),
  };
}

/** YAML for one public service routing everything to 127.0.0.1:`upstreamPort`. */
export function oneService(upstreamPort: number, extra = ''): string {
  return `services:
  - name: app
    hosts: ['*']
    pathPrefix: /
    access: public
    upstream:
      addresses: ['127.0.0.1:${upstreamPort}']
${extra}`;
}
