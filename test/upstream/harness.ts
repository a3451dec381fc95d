/**
 * Shared fixtures for the upstream tests: loopback servers (node:http and raw node:net that
 * write byte-exact responses) and a sink that records what the client delivered.
 */
import {
  createServer as createHttpServer, type IncomingMessage, type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { ErrorCode } from '../../src/errors/index.js';
import {
  kParseComplete, kParseMalformed, kParsePaused, ResponseParser, type PoolOptions,
  type ResponseBodyKind, type ResponseSink, type UpstreamAddress, type UpstreamExchange,
  type UpstreamRequestHead,
} from '../../src/upstream/index.js';

/** Pool options with test-sized limits; override per test. */
export const kTestPool: Omit<PoolOptions, 'address'> = {
  maxConnections: 4,
  maxQueued: 16,
  connectTimeoutMs: 2000,
  headersTimeoutMs: 2000,
  bodyTimeoutMs: 2000,
  idleTimeoutMs: 5000,
  maxResponseHeaderBytes: 16 * 1024,
};

/** A loopback server plus the number of TCP connections it accepted. */
export interface TestServer {
  readonly address: UpstreamAddress;
  readonly connections: () => number;
  close(): Promise<void>;
}

/** node:http upstream on 127.0.0.1, ephemeral port. */
export async function startHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const server = createHttpServer({ keepAliveTimeout: 10_000 }, handler);
  let accepted = 0;
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: { host: '127.0.0.1', port },
    connections: () => accepted,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Called once per request head read by a raw server (bodies are skipped by Content-Length). */
export type RawHandler = (
  socket: Socket, head: string, request: number, connection: number,
) => void;

/**
 * Raw node:net upstream: `onRequest` writes whatever bytes the test wants. `onConnection` may
 * take over a socket entirely (return true to skip the request reader).
 */
export async function startRawServer(
  onRequest: RawHandler,
  onConnection?: (socket: Socket, connection: number) => boolean,
): Promise<TestServer> {
  let accepted = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    const connection = accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (onConnection?.(socket, connection) === true) return;
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.slice(0, end + 4);
        const length = /\r\ncontent-length: (\d+)/i.exec(head);
        const total = end + 4 + (length === null ? 0 : Number(length[1]));
        if (buffered.length < total) return;
        buffered = buffered.slice(total);
        onRequest(socket, head, requests++, connection);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: { host: '127.0.0.1', port },
    connections: () => accepted,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Everything a sink was told, in order, with a promise that settles at onEnd or onError. */
export class RecordingSink implements ResponseSink {
  status = 0;
  headers: readonly string[] = [];
  kind: ResponseBodyKind | '' = '';
  contentLength = -2;
  readonly chunks: Buffer[] = [];
  readonly events: string[] = [];
  error: ErrorCode | null = null;
  readonly done: Promise<void>;
  #settle!: () => void;

  constructor() {
    this.done = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  /** The body bytes received so far, joined. */
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }

  onHead(status: number, headers: readonly string[], kind: ResponseBodyKind, length: number): void {
    this.events.push('head');
    this.status = status;
    this.headers = headers;
    this.kind = kind;
    this.contentLength = length;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }

  onEnd(): void {
    this.events.push('end');
    this.#settle();
  }

  onError(code: ErrorCode): void {
    this.events.push(`error:${code}`);
    this.error = code;
    this.#settle();
  }
}

/** A bodiless GET with a Host field. */
export function getHead(target = '/', headers: readonly string[] = []): UpstreamRequestHead {
  const all = ['host', 'upstream.test', ...headers];
  return { method: 'GET', target, headers: all, body: { kind: 'none' } };
}

/** Sends one bodiless request and waits for its outcome. */
export async function fetchOnce(
  pool: { request(head: UpstreamRequestHead, sink: ResponseSink): UpstreamExchange },
  head: UpstreamRequestHead = getHead(),
): Promise<RecordingSink> {
  const sink = new RecordingSink();
  pool.request(head, sink);
  await sink.done;
  return sink;
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the bare parser made of an input (see `runParser`). */
export interface ParseOutcome {
  result: 'complete' | 'malformed' | 'incomplete' | 'truncated';
  status: number;
  headers: readonly string[];
  kind: string;
  body: Buffer;
  /** Absolute index where a complete response ended. */
  end: number;
}

/**
 * Feeds `input` to a fresh ResponseParser in pieces cut at `cuts` (each piece a fresh copy, so
 * nothing may depend on an earlier buffer), resuming at once after every pause. When the input
 * runs out, the close of the connection is signalled with `finish()`.
 */
export function runParser(
  input: Buffer,
  cuts: readonly number[],
  options: { isHead?: boolean; maxHead?: number; pauseEvery?: number } = {},
): ParseOutcome {
  const outcome: ParseOutcome = {
    result: 'incomplete', status: 0, headers: [], kind: '', body: Buffer.alloc(0), end: -1,
  };
  const chunks: Buffer[] = [];
  let calls = 0;
  const pauseEvery = options.pauseEvery ?? 0;
  const parser = new ResponseParser({
    onResponseHead: (head) => {
      outcome.status = head.status;
      outcome.headers = head.headers;
      outcome.kind = head.bodyKind;
      return true;
    },
    onResponseBody: (chunk) => {
      chunks.push(Buffer.from(chunk));
      return pauseEvery === 0 || ++calls % pauseEvery !== 0;
    },
  }, options.maxHead ?? 16 * 1024);
  parser.start(options.isHead ?? false);

  const points = [...new Set(cuts)].filter((c) => c > 0 && c < input.length).sort((a, b) => a - b);
  let base = 0;
  for (const next of [...points, input.length]) {
    const piece = Buffer.from(input.subarray(base, next));
    let start = 0;
    while (start < piece.length) {
      const result = parser.execute(piece, start);
      if (result === kParsePaused) {
        start = parser.offset;
        continue;
      }
      if (result === kParseComplete) outcome.end = base + parser.offset;
      if (result === kParseComplete || result === kParseMalformed) {
        outcome.result = result === kParseComplete ? 'complete' : 'malformed';
        outcome.body = Buffer.concat(chunks);
        return outcome;
      }
      break;
    }
    base = next;
  }
  const finished = parser.finish();
  if (finished === kParseComplete) outcome.result = 'complete';
  else outcome.result = input.length === 0 ? 'incomplete' : 'truncated';
  if (finished === kParseComplete) outcome.end = input.length;
  outcome.body = Buffer.concat(chunks);
  return outcome;
}
