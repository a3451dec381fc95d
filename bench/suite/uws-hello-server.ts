/**
 * The serving ceiling of the suite: a uWS.js hello world on the project's own `uWebSockets.js`
 * package, run as its own process:
 *
 *   node dist/bench/suite/uws-hello-server.js PORT
 *
 * Every request gets 200 with the upstream's 97-byte body, answered synchronously inside the
 * handler (uWS corks that write itself). The native build is required, as the proxy requires it
 * (src/server/uws-loader.ts): the JavaScript fallback would make the ceiling look ten times
 * lower. Prints `listening` once it accepts connections; SIGTERM closes it.
 */
import { loadUWS } from '../../src/server/uws-loader.js';
import { kUpstreamBody } from '../scenarios.js';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('usage: uws-hello-server PORT\n');
  process.exit(2);
}

const { uws } = loadUWS(false);
const app = uws.App().any('/*', (res) => {
  res.end(kUpstreamBody);
});
app.listen('127.0.0.1', port, (socket) => {
  if (socket === false) {
    process.stderr.write(`cannot listen on 127.0.0.1:${port}\n`);
    process.exit(1);
  }
  process.stdout.write('listening\n');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      uws.us_listen_socket_close(socket);
      process.exit(0);
    });
  }
});
