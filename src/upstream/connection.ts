/**
 * One upstream socket and its state machine (drawn in README.md):
 *
 *   connecting ──connect──► idle ◄──reusable response──┐
 *        │                   │ dispatch                │
 *        │                   ▼                         │
 *        │                 active ─────────────────────┘
 *        └────────── any failure, timeout, abort ──► closed (never reopened)
 *
 * One request at a time (no pipelining). The exchange writes its request on the socket; the
 * connection reads the response (through its ResponseReader), runs the connect/headers/body/idle
 * deadline, and decides reuse. A deadline is a number checked by the pool's sweep, so arming one
 * costs a Date.now() and no timer object.
 */
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors/index.js';
import type { Exchange } from './exchange.js';
import type { ParsedHead } from './response-head.js';
import {
  kParseComplete, kParseNeedMore, kParsePaused, type ResponseEvents,
} from './response-parser.js';
import { ResponseReader } from './response-reader.js';
import { openUpstreamSocket } from './socket-open.js';
import type { PoolOptions } from './types.js';

/** What a connection asks of its pool. */
export interface ConnectionOwner {
  readonly options: PoolOptions;
  readonly isClosing: boolean;
  /** The connection is idle (just connected, or its response completed and it may be reused). */
  connectionReady(conn: Connection): void;
  /** The connection closed; `retry` is an exchange to send again on a fresh connection. */
  connectionGone(conn: Connection, retry: Exchange | null): void;
  /** Outcome of the connect attempt (passive health check). */
  connectOutcome(ok: boolean): void;
}

const kConnecting = 0;
const kIdle = 1;
const kActive = 2;
const kClosed = 3;

const kNoTimer = 0;
const kConnectTimer = 1;
const kHeadersTimer = 2;
const kBodyTimer = 3;
const kIdleTimer = 4;

/** One socket to the upstream; created by the pool, possibly bound to the exchange it serves. */
export class Connection implements ResponseEvents {
  /** Date.now() value at which the armed timer fires; Infinity when none runs. */
  deadline = Infinity;
  readonly #owner: ConnectionOwner;
  readonly #options: PoolOptions;
  readonly #socket: Socket;
  readonly #reader: ResponseReader;
  #state: number = kConnecting;
  #timer: number = kNoTimer;
  #exchange: Exchange | null;
  #served = 0;
  #requestSent = false;
  #headSeen = false;

  /** Starts connecting; `exchange` (if any) is dispatched once connected. */
  constructor(owner: ConnectionOwner, exchange: Exchange | null) {
    this.#owner = owner;
    this.#options = owner.options;
    this.#exchange = exchange;
    const { socket, readyEvent } = openUpstreamSocket(this.#options, this.#onData);
    this.#socket = socket;
    this.#reader = new ResponseReader(socket, this, this.#options.maxResponseHeaderBytes);
    socket.once(readyEvent, this.#onConnect);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onSocketGone);
    socket.on('close', this.#onSocketGone);
    socket.on('drain', this.#onDrain);
    this.#arm(kConnectTimer, this.#options.connectTimeoutMs);
  }

  /** Sends `exchange` on this idle connection (the exchange writes the request itself). */
  dispatch(exchange: Exchange): void {
    this.#state = kActive;
    this.#exchange = exchange;
    this.#reader.parser.start(exchange.isHeadRequest);
    this.#requestSent = false;
    this.#headSeen = false;
    this.#disarm();
    exchange.attach(this, this.#socket);
  }

  /** A request write filled the socket buffer: the upstream is not reading, the clock runs. */
  writeBlocked(): void {
    if (!this.#headSeen && this.#timer === kNoTimer) {
      this.#arm(kHeadersTimer, this.#options.headersTimeoutMs);
    }
  }

  /** The whole request has been handed to the socket: start the headers clock. */
  requestSent(): void {
    if (this.#requestSent || this.#state !== kActive) return;
    this.#requestSent = true;
    if (!this.#headSeen) this.#arm(kHeadersTimer, this.#options.headersTimeoutMs);
  }

  /** Continues reading after the sink paused. */
  resume(): void {
    if (this.#state !== kActive) return;
    if (this.#reader.isPaused && this.#timer === kBodyTimer) {
      this.#arm(kBodyTimer, this.#options.bodyTimeoutMs);
    }
    this.#settle(this.#reader.resume());
  }

  /** Closes the socket for good; an exchange still attached gets no further callback. */
  destroy(): void {
    if (this.#state === kClosed) return;
    this.#exchange = null;
    this.#teardown(null);
  }

  /** Called by the pool's sweep when `now` has reached `deadline`. */
  checkDeadline(now: number): void {
    if (now < this.deadline) return;
    if (this.#timer === kConnectTimer) this.#connectFailed('IAM_UPSTREAM_CONNECT_TIMEOUT');
    else if (this.#timer === kHeadersTimer) this.#fail('IAM_UPSTREAM_HEADERS_TIMEOUT');
    else if (this.#timer === kBodyTimer) this.#fail('IAM_UPSTREAM_BODY_TIMEOUT');
    else this.destroy();
  }

  /** ResponseEvents: the final head arrived. */
  onResponseHead(head: ParsedHead): boolean {
    this.#headSeen = true;
    if (head.bodyKind === 'none' || head.contentLength === 0) this.#disarm();
    else this.#arm(kBodyTimer, this.#options.bodyTimeoutMs);
    const exchange = this.#exchange;
    return exchange !== null && exchange.deliverHead(head);
  }

  /** ResponseEvents: decoded body bytes. */
  onResponseBody(chunk: Buffer): boolean {
    const exchange = this.#exchange;
    return exchange !== null && exchange.deliverData(chunk);
  }

  #onConnect = (): void => {
    if (this.#state !== kConnecting) return;
    this.#owner.connectOutcome(true);
    this.#state = kIdle;
    const exchange = this.#exchange;
    this.#exchange = null;
    if (exchange !== null && !exchange.isDone) this.dispatch(exchange);
    else this.#becomeIdle();
  };

  #onData = (chunk: Buffer): void => {
    if (this.#state !== kActive) {
      // Octets nobody asked for: whatever the upstream thinks, this stream is out of step.
      if (this.#state === kIdle) this.destroy();
      return;
    }
    if (this.#timer === kBodyTimer) this.deadline = Date.now() + this.#options.bodyTimeoutMs;
    this.#settle(this.#reader.feed(chunk, 0));
  };

  #onEnd = (): void => {
    if (this.#state !== kActive) return this.#onSocketGone();
    if (this.#reader.parser.finish() === kParseComplete) this.#complete(false);
    else this.#lost();
  };

  #onSocketGone = (): void => {
    if (this.#state === kConnecting) this.#connectFailed('IAM_UPSTREAM_CONNECT_FAILED');
    else if (this.#state === kActive) this.#lost();
    else this.destroy();
  };

  #onDrain = (): void => {
    if (this.#state !== kActive) return;
    if (this.#timer === kHeadersTimer && !this.#requestSent) this.#disarm();
    this.#exchange?.drained();
  };

  /** Acts on a reader result: nothing, a pause, the end of the response, or a malformed one. */
  #settle(result: number): void {
    // A sink callback may have aborted the exchange (the socket is then already closed).
    if (this.#state !== kActive || result === kParseNeedMore) return;
    if (result === kParsePaused) {
      if (this.#timer === kBodyTimer) this.deadline = Infinity;
    } else if (result === kParseComplete) this.#complete(this.#reader.hasExtraBytes);
    else this.#fail('IAM_UPSTREAM_RESPONSE_MALFORMED');
  }

  /** The response ended. Reuse only when nothing about the stream is in doubt (README). */
  #complete(extraBytes: boolean): void {
    const exchange = this.#exchange!;
    this.#exchange = null;
    this.#served++;
    const reusable = !extraBytes && this.#reader.parser.keepAlive && this.#requestSent;
    exchange.deliverEnd();
    if (!reusable || this.#owner.isClosing) return this.destroy();
    this.#reader.reset();
    this.#becomeIdle();
  }

  /** The socket ended or failed mid-exchange. */
  #lost(): void {
    const exchange = this.#exchange;
    // The keep-alive race: a reused socket closed by the upstream before any response octet.
    if (exchange !== null && this.#served > 0 && !this.#reader.parser.hasResponseBytes &&
        exchange.canRetry()) {
      this.#exchange = null;
      exchange.prepareRetry();
      this.#teardown(exchange);
      return;
    }
    this.#fail('IAM_UPSTREAM_RESET');
  }

  #fail(code: ErrorCode): void {
    const exchange = this.#exchange;
    this.#exchange = null;
    this.#teardown(null);
    exchange?.fail(code);
  }

  #connectFailed(code: ErrorCode): void {
    this.#owner.connectOutcome(false);
    this.#fail(code);
  }

  #becomeIdle(): void {
    this.#state = kIdle;
    this.#arm(kIdleTimer, this.#options.idleTimeoutMs);
    this.#owner.connectionReady(this);
  }

  #teardown(retry: Exchange | null): void {
    this.#state = kClosed;
    this.#disarm();
    this.#socket.destroy();
    this.#owner.connectionGone(this, retry);
  }

  #arm(timer: number, ms: number): void {
    this.#timer = timer;
    this.deadline = Date.now() + ms;
  }

  #disarm(): void {
    this.#timer = kNoTimer;
    this.deadline = Infinity;
  }
}
