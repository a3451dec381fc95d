/**
 * A raw HTTP/1.1 client over node:net for byte-exact request targets and framing.
 * It sends the given bytes as they are and parses one response (Content-Length, chunked, or
 * delimited by close), so tests can see exactly what the proxy answers.
 */
import net from 'node:net';
import tls from 'node:tls';

/** One parsed response, or `status: 0` when the connection closed without one. */
export interface RawResponse {
  readonly status: number;
  /** Header names lower-cased; repeated headers keep every value. */
  readonly headers: ReadonlyMap<string, string[]>;
  readonly body: Buffer;
  /** Whether the server closed the connection (within the wait). */
  readonly isClosed: boolean;
}

function parseHead(text: string): { status: number; headers: Map<string, string[]> } {
  const lines = text.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? '0');
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { status, headers };
}

function decodeChunked(buf: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return buf.indexOf('\r\n\r\n', eol) >= 0 || buf.length >= eol + 4
      ? Buffer.concat(parts) : undefined;
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * Sends `request` (a string is sent as latin1 bytes, so any byte can be written) to
 * 127.0.0.1:`port` and resolves with the first response. Waits at most `timeoutMs`.
 * With `expectNoBody` (HEAD requests), the response ends after the head. With `waitForCloseMs`,
 * waits that long after a complete response to see whether the server closes the connection.
 * With `tls`, the bytes go over TLS (a refused handshake resolves as `status: 0`, closed).
 * With `localAddress` (another loopback address such as 127.0.0.2), the connection comes from it.
 */
export function rawRequest(port: number, request: string | Buffer,
  opts: { timeoutMs?: number; expectNoBody?: boolean; waitForCloseMs?: number;
    tls?: tls.ConnectionOptions; localAddress?: string } = {}):
  Promise<RawResponse> {
  const { timeoutMs = 3000, expectNoBody = false, waitForCloseMs = 0 } = opts;
  return new Promise((resolve) => {
    const from = opts.localAddress === undefined ? {} : { localAddress: opts.localAddress };
    const socket = opts.tls === undefined ? net.connect({ port, host: '127.0.0.1', ...from })
      : tls.connect({ ...opts.tls, port, host: '127.0.0.1', ...from });
    const chunks: Buffer[] = [];
    let isDone = false;
    const finish = (isClosed: boolean): void => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf('\r\n\r\n');
      if (headEnd < 0) {
        resolve({ status: 0, headers: new Map(), body: Buffer.alloc(0), isClosed });
        return;
      }
      const { status, headers } = parseHead(all.subarray(0, headEnd).toString('latin1'));
      const rest = all.subarray(headEnd + 4);
      const body = headers.get('transfer-encoding')?.[0] === 'chunked'
        ? decodeChunked(rest) ?? rest : rest;
      resolve({ status, headers, body, isClosed });
    };
    let timer = setTimeout(() => finish(false), timeoutMs);
    const complete = (): void => {
      if (waitForCloseMs === 0) {
        finish(false);
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), waitForCloseMs);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const { status, headers } = parseHead(all.subarray(0, headEnd).toString('latin1'));
      const rest = all.subarray(headEnd + 4);
      const length = headers.get('content-length')?.[0];
      if (expectNoBody || status === 204 || status === 304) complete();
      else if (length !== undefined && rest.length >= Number(length)) complete();
      else if (headers.get('transfer-encoding')?.[0] === 'chunked' && decodeChunked(rest)) {
        complete();
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
  });
}
