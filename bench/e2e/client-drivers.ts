/**
 * The four HTTP/1.1 clients the upstream-client bench compares, behind one small interface:
 * send one `GET /` (with a Host header) to the bench upstream and report how it ended. Each is
 * used the way a proxy would use it: one pool of keep-alive connections, bodies read and
 * counted, nothing kept. Runs only inside the child processes of client-loops.ts.
 */
import { Agent, request as httpRequest } from 'node:http';

import { type Dispatcher, Pool } from 'undici';

import type { ErrorCode } from '../../src/errors/index.js';
import {
  type ResponseSink, type UpstreamRequestHead, UpstreamPool,
} from '../../src/upstream/index.js';

/** The clients, named `stage/case`, in the order of the first round. */
export const kClientNames = [
  'upstream-client/portcullis',
  'upstream-client/undici-dispatch',
  'upstream-client/undici-request',
  'upstream-client/node-http',
] as const;

/** One of `kClientNames`. */
export type ClientName = (typeof kClientNames)[number];

/**
 * How one request ended: the final status and the body bytes received, plus a short reason
 * when the client reported a failure (an error code or message). Called exactly once.
 */
export type RequestDone = (status: number, bodyBytes: number, failure: string | undefined) => void;

/** A client ready to send requests to one upstream. */
export interface ClientDriver {
  /** Sends `GET /` with `Host: 127.0.0.1:<port>`; `done` runs once the answer is read. */
  send(done: RequestDone): void;
}

/** Type guard for a `--client` argument. */
export function isClientName(value: string): value is ClientName {
  return (kClientNames as readonly string[]).includes(value);
}

/** Builds `name` against 127.0.0.1:`port` with at most `connections` sockets. */
export function createDriver(name: ClientName, port: number, connections: number): ClientDriver {
  switch (name) {
    case 'upstream-client/portcullis': return portcullisDriver(port, connections);
    case 'upstream-client/undici-dispatch': return undiciDispatchDriver(port, connections);
    case 'upstream-client/undici-request': return undiciRequestDriver(port, connections);
    case 'upstream-client/node-http': return nodeHttpDriver(port, connections);
  }
}

// (a) Portcullis's own client, with the timeouts of the config defaults (src/config/schema.ts).
function portcullisDriver(port: number, connections: number): ClientDriver {
  const pool = new UpstreamPool({
    address: { host: '127.0.0.1', port },
    maxConnections: connections,
    maxQueued: 1024,
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 30_000,
    bodyTimeoutMs: 30_000,
    idleTimeoutMs: 60_000,
    maxResponseHeaderBytes: 64 * 1024,
  });
  const head: UpstreamRequestHead = {
    method: 'GET', target: '/', headers: ['host', `127.0.0.1:${port}`], body: { kind: 'none' },
  };
  return { send: (done) => void pool.request(head, new CountingSink(done)) };
}

/** Counts body bytes; the exchange handle is not needed since the sink never pauses. */
class CountingSink implements ResponseSink {
  #status = 0;
  #bytes = 0;
  readonly #done: RequestDone;

  constructor(done: RequestDone) {
    this.#done = done;
  }

  onHead(status: number): void {
    this.#status = status;
  }

  onData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    return true;
  }

  onEnd(): void {
    this.#done(this.#status, this.#bytes, undefined);
  }

  onError(code: ErrorCode): void {
    this.#done(this.#status, this.#bytes, code);
  }
}

// (b) undici Pool.dispatch. The handler uses the callbacks undici's core calls directly
// (onConnect ... onComplete, marked deprecated in the 7.x types): a handler with the newer
// onRequestStart family is wrapped in an adapter object on every dispatch (UnwrapHandler).
function undiciDispatchDriver(port: number, connections: number): ClientDriver {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const opts: Dispatcher.DispatchOptions = {
    method: 'GET', path: '/', headers: ['host', `127.0.0.1:${port}`],
  };
  return { send: (done) => void pool.dispatch(opts, new CountingHandler(done)) };
}

/** The minimal legacy dispatch handler: remembers the status, counts body bytes. */
class CountingHandler implements Dispatcher.DispatchHandler {
  #status = 0;
  #bytes = 0;
  readonly #done: RequestDone;

  constructor(done: RequestDone) {
    this.#done = done;
  }

  onConnect(): void {
    // Nothing to set up: the request is never aborted.
  }

  onHeaders(status: number): boolean {
    this.#status = status;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    return true;
  }

  onComplete(): void {
    this.#done(this.#status, this.#bytes, undefined);
  }

  onError(err: Error): void {
    this.#done(this.#status, this.#bytes, err.message);
  }
}

// (c) undici Pool.request, the promise API most code uses; the body is read whole.
function undiciRequestDriver(port: number, connections: number): ClientDriver {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const opts = { method: 'GET', path: '/', headers: { host: `127.0.0.1:${port}` } } as const;
  const once = async (done: RequestDone): Promise<void> => {
    try {
      const { statusCode, body } = await pool.request(opts);
      const bytes = (await body.arrayBuffer()).byteLength;
      done(statusCode, bytes, undefined);
    } catch (err) {
      done(0, 0, err instanceof Error ? err.message : String(err));
    }
  };
  return { send: (done) => void once(done) };
}

// (d) node:http with a keep-alive Agent.
function nodeHttpDriver(port: number, connections: number): ClientDriver {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const host = `127.0.0.1:${port}`;
  const opts = { agent, host: '127.0.0.1', port, path: '/', headers: { host } };
  return {
    send(done) {
      let isDone = false;
      const finish = (status: number, bytes: number, failure: string | undefined): void => {
        if (isDone) return;
        isDone = true;
        done(status, bytes, failure);
      };
      const req = httpRequest(opts, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => finish(res.statusCode ?? 0, bytes, undefined));
        res.on('error', (err) => finish(res.statusCode ?? 0, bytes, err.message));
      });
      req.on('error', (err) => finish(0, 0, err.message));
      req.end();
    },
  };
}
