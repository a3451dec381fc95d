/**
 * A real upstream for integration tests: a node:http server that records exactly what it received
 * (method, target, raw headers, body byte count and digest) and answers by path:
 *
 *   /download?bytes=N      streams N bytes of a repeating pattern (Content-Length set)
 *   /download-chunked?bytes=N  the same without Content-Length (chunked)
 *   /slow-head?ms=N        waits N ms before answering
 *   /stall-body?bytes=N    sends the head and N bytes of a larger declared body, then stalls
 *   /reset-mid-body        sends the head and part of the body, then destroys the socket
 *   /status?code=N         answers with status N and an empty body
 *   anything else          200 with a JSON summary of what was received
 */
import { createHash } from 'node:crypto';
import http from 'node:http';

/** One request as the upstream saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  /** Raw header pairs in wire order, names as sent. */
  readonly rawHeaders: readonly string[];
  readonly bodyBytes: number;
  readonly bodySha256: string;
  /** Whether the request stream ended normally (false when the proxy aborted it). */
  readonly isComplete: boolean;
}

/** A running recording upstream. */
export interface RecordingUpstream {
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Distinct TCP connections accepted so far. */
  connections(): number;
  /** Values of header `name` (case-insensitive) in the last recorded request. */
  lastHeader(name: string): string[];
  close(): Promise<void>;
}

const kPattern = Buffer.alloc(64 * 1024, 'portcullis-');

function writePattern(res: http.ServerResponse, total: number, done: () => void): void {
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, kPattern.length);
      left -= n;
      if (!res.write(kPattern.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    done();
  };
  pump();
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, rec: RecordedRequest): void {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const n = Number(url.searchParams.get('bytes') ?? '0');
  switch (url.pathname) {
    case '/download':
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      writePattern(res, n, () => res.end());
      return;
    case '/download-chunked':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      writePattern(res, n, () => res.end());
      return;
    case '/slow-head':
      setTimeout(() => res.end('slow'), Number(url.searchParams.get('ms') ?? '0')).unref();
      return;
    case '/stall-body':
      res.writeHead(200, { 'content-length': n * 2 });
      res.write(kPattern.subarray(0, Math.min(n, kPattern.length)));
      return;
    case '/reset-mid-body':
      res.writeHead(200, { 'content-length': 1_000_000 });
      res.write(kPattern.subarray(0, 1000), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    case '/status':
      res.writeHead(Number(url.searchParams.get('code') ?? '200'));
      res.end();
      return;
    default:
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'recording' });
      res.end(JSON.stringify({ method: rec.method, url: rec.url, bodyBytes: rec.bodyBytes,
        bodySha256: rec.bodySha256 }));
  }
}

/** Starts the recording upstream on 127.0.0.1 and an ephemeral port. */
export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    const record = (isComplete: boolean): RecordedRequest => {
      const rec = { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders,
        bodyBytes: bytes, bodySha256: hash.digest('hex'), isComplete };
      requests.push(rec);
      return rec;
    };
    req.on('end', () => answer(req, res, record(true)));
    req.on('close', () => {
      if (!req.complete) record(false);
    });
  });
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    requests,
    connections: () => connections,
    lastHeader(name) {
      const last = requests.at(-1);
      if (last === undefined) return [];
      const out: string[] = [];
      for (let i = 0; i < last.rawHeaders.length; i += 2) {
        if (last.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(last.rawHeaders[i + 1]!);
      }
      return out;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
