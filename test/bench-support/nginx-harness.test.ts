import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { isPortOpen } from '../support/free-port.js';
import { type NginxInstance, nginxBinary, startNginx } from '../support/nginx.js';

/**
 * On a developer machine without nginx these cases are skipped with the reason, so `npm test`
 * passes on a fresh clone; under CI (CI=true, where .ci/run installs nginx) a missing binary
 * fails instead of skipping silently.
 */
function missingNginx(): string | false {
  try {
    nginxBinary();
    return false;
  } catch (err) {
    if (process.env['CI'] === 'true') throw err;
    return `${(err as Error).message} (needed by the benches only)`;
  }
}

const kBody = 'hello from the backend';

// A backend answering with a fixed body, and a keep-alive proxy_pass in front of it: the shape
// the forwarding bench uses, so a broken harness fails here rather than inside a bench run.
const kConf = `
  upstream backend_pool {
    server 127.0.0.1:{{port:backend}};
    keepalive 8;
  }
  server {
    listen 127.0.0.1:{{port:backend}};
    location / { return 200 '${kBody}'; }
  }
  server {
    listen 127.0.0.1:{{port:front}};
    location / {
      proxy_pass http://backend_pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
`;

interface Answer {
  status: number;
  body: string;
}

/** One GET over a fresh connection to 127.0.0.1, bounded to 5 s. */
async function get(port: number, path: string): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} on port ${port} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

describe('bench-support/nginx-harness', { timeout: 30_000, skip: missingNginx() }, () => {
  let nginx: NginxInstance;

  before(async () => {
    nginx = await startNginx({ conf: kConf });
  });

  after(async () => {
    await nginx?.stop();
  });

  it('gives each placeholder its own port', () => {
    assert.notEqual(nginx.port('backend'), nginx.port('front'));
    assert.throws(() => nginx.port('missing'));
  });

  const cases = [
    // The backend answers itself: nginx started, its placeholder port was substituted.
    { name: 'backend', path: '/' },
    // The proxy forwards to the backend over keep-alive and relays its status and body.
    { name: 'front', path: '/any/path?q=1' },
  ];
  for (const c of cases) {
    it(`answers 200 with the backend body on ${c.name}`, async () => {
      const answer = await get(nginx.port(c.name), c.path);
      assert.equal(answer.status, 200);
      assert.equal(answer.body, kBody);
    });
  }

  it('frees its ports and prefix on stop', async () => {
    const ports = [nginx.port('backend'), nginx.port('front')];
    await nginx.stop();
    for (const port of ports) assert.equal(await isPortOpen(port), false);
  });
});
