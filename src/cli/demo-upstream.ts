/**
 * The built-in demo upstream started by the embedded default configuration.
 *
 * A small node:http service that answers every request with what it received (method, path,
 * headers, body size), so a newcomer can see exactly what the proxy forwards: the canonical
 * path, the X-Forwarded-* headers the proxy set, and the identity headers it removed.
 */
import http from 'node:http';

/** A running demo upstream. */
export interface DemoUpstream {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the demo upstream on `host:port` (port 0 picks a free one). */
export function startDemoUpstream(host: string, port: number): Promise<DemoUpstream> {
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      const body = JSON.stringify({
        service: 'portcullis-demo-upstream',
        method: req.method,
        path: req.url,
        headers: req.headers,
        bodyBytes: bytes,
      }, null, 2);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${body}\n`);
    });
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : port,
        close: () => new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
