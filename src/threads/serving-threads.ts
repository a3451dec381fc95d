/**
 * The main thread's side of the serving threads (src/threads/README.md): starts them, tells them
 * every change (key sets, bundles, revocations, feed), answers what they ask of the shared parts
 * (the verifier pool, the key sources, the audit sink, the live feed), gathers what the admin API
 * shows (sessions, metrics, counters), and drains them at shutdown.
 */
import { Worker } from 'node:worker_threads';
import type { FeedItem } from '../audit/index.js';
import type { VerifyResult } from '../authn/index.js';
import type { SessionStore } from '../login/index.js';
import { PortcullisError } from '../errors/index.js';
import { workerExecArgv } from '../structures/index.js';
import type { Logger } from '../telemetry/index.js';
import { Channel } from './channel.js';
import type {
  DrainAnswer, MainNote, MainRequest, ThreadNote, ThreadRequest, ThreadStart, VerifyItem,
} from './protocol.js';

const kWorkerFile = new URL('./serving-worker.js', import.meta.url);
/** A thread that has not said `ready` by then has failed to start. */
const kStartTimeoutMs = 30_000;

/** What the serving threads use of the main thread's stages. */
export interface SharedParts {
  verify(items: readonly VerifyItem[]): Promise<VerifyResult[]>;
  refetch(issuer: string, kid: string): Promise<boolean>;
  /** Writes a batch of record lines to the sink, in turn with the main thread's own. */
  writeAudit(bytes: Uint8Array): Promise<void>;
  feedItems(items: readonly FeedItem[], skipped: number): void;
  /** Browser login's store (its `remove` tells every thread to forget); undefined when off. */
  readonly sessions: SessionStore | undefined;
}

type Req<K extends ThreadRequest['kind']> = Extract<ThreadRequest, { kind: K }>;
type Note<K extends ThreadNote['kind']> = Extract<ThreadNote, { kind: K }>;

interface Member {
  readonly worker: Worker;
  readonly channel: Channel;
  readonly exited: Promise<void>;
  isAlive: boolean;
  ready: Promise<void>;
}

/** The serving threads besides the main thread. */
export class ServingThreads {
  readonly #members: Member[];
  readonly #logger: Logger;

  private constructor(members: Member[], logger: Logger) {
    this.#members = members;
    this.#logger = logger;
  }

  /**
   * Starts `count` threads from `start` (each gets its index). They are told everything told
   * from now on, so `start` and later notes never miss a change between them. Await `ready()`.
   */
  static spawn(count: number, start: Omit<ThreadStart, 'index'>, shared: SharedParts,
    logger: Logger): ServingThreads {
    const members: Member[] = [];
    for (let index = 1; index <= count; index++) {
      const worker = new Worker(kWorkerFile, { workerData: { ...start, index },
        execArgv: workerExecArgv(process.execArgv) });
      const channel = new Channel(worker);
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      const member: Member = { worker, channel, exited, isAlive: true,
        ready: Promise.resolve() };
      member.ready = readiness(member, index);
      // ready() reads the outcome; until then a failure must not count as unhandled.
      member.ready.catch(() => undefined);
      members.push(member);
      serveShared(channel, shared);
      channel.onNote<Note<'log'>>('log', (n) => logger.writeFormatted(n.lines));
      worker.on('error', (err) => logger.error('serving thread failed', { thread: index,
        error: err.message }));
      void exited.then(() => {
        member.isAlive = false;
        member.channel.close('thread exited');
      });
    }
    return new ServingThreads(members, logger);
  }

  /**
   * Resolves once every thread is listening. Rejects with IAM_SERVER_THREAD_FAILED (or the
   * thread's own start-up code) when one cannot start; every thread is then stopped.
   */
  async ready(): Promise<void> {
    try {
      await Promise.all(this.#members.map((m) => m.ready));
    } catch (err) {
      await Promise.all(this.#members.map((m) => m.worker.terminate()));
      throw err;
    }
  }

  /** Threads started (besides the main thread). */
  get size(): number {
    return this.#members.length;
  }

  /** Threads still running. */
  get alive(): number {
    return this.#members.filter((m) => m.isAlive).length;
  }

  /** Tells every live thread (in order with everything told before). */
  tell(note: MainNote): void {
    for (const m of this.#members) if (m.isAlive) m.channel.note(note);
  }

  /** Asks every live thread; a thread that fails to answer is left out. */
  async ask<T>(request: MainRequest): Promise<T[]> {
    const answers = await Promise.allSettled(this.#members.filter((m) => m.isAlive)
      .map((m) => m.channel.request<T>(request)));
    return answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  }

  /** Resolves once every live thread has applied every note told so far. */
  async sync(): Promise<void> {
    await this.ask({ kind: 'sync' });
  }

  /**
   * Drains every thread (stop accepting, finish requests in flight within `deadlineMs`, write
   * their records through the main thread). Resolves whether all drained in time, and the
   * records they lost.
   */
  async drain(deadlineMs: number): Promise<DrainAnswer> {
    const request: MainRequest = { kind: 'drain', deadlineMs };
    const answers = await Promise.allSettled(this.#members.filter((m) => m.isAlive)
      .map((m) => m.channel.request<DrainAnswer>(request)));
    let isDrained = true;
    let lost = 0;
    for (const a of answers) {
      if (a.status === 'rejected') {
        isDrained = false;
        continue;
      }
      isDrained &&= a.value.isDrained;
      lost += a.value.lost;
    }
    return { isDrained, lost };
  }

  /**
   * Waits up to `timeoutMs` for every thread to end. A drained thread ends when uWS has closed
   * its last idle keep-alive connection (uWebSockets.js 20.30 cannot close them on demand: its
   * idle timeout, 10-14 s, does). Resolves whether all ended.
   */
  async exited(timeoutMs: number): Promise<boolean> {
    if (this.alive === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = Promise.all(this.#members.map((m) => m.exited)).then(() => true as const);
    const outcome = await Promise.race([all, late]);
    clearTimeout(timer);
    if (!outcome) {
      this.#logger.warn('serving threads still hold idle connections', { alive: this.alive });
    }
    return outcome;
  }
}

/** Answers a thread's requests with the main thread's shared parts. */
function serveShared(channel: Channel, shared: SharedParts): void {
  channel.onRequest<Req<'verify'>>('verify', (r) => shared.verify(r.items));
  channel.onRequest<Req<'refetch'>>('refetch', (r) => shared.refetch(r.issuer, r.kid));
  channel.onRequest<Req<'audit'>>('audit', async (r) => {
    await shared.writeAudit(r.bytes);
    return true;
  });
  channel.onNote<Note<'feed-items'>>('feed-items', (n) => shared.feedItems(n.items, n.skipped));
  const sessions = shared.sessions;
  if (sessions === undefined) return;
  channel.onRequest<Req<'session-find'>>('session-find', (r) => sessions.find(r.id, r.nowMs));
  channel.onRequest<Req<'session-save'>>('session-save', (r) => sessions.save(r.session));
  channel.onRequest<Req<'session-remove'>>('session-remove', (r) => sessions.remove(r.id));
}

/** Resolves when the thread says `ready`; rejects when it fails, exits or stays silent. */
function readiness(member: Member, index: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (code: string, detail: string): void => {
      clearTimeout(timer);
      const known = code.startsWith('IAM_') ? code : 'IAM_SERVER_THREAD_FAILED';
      reject(new PortcullisError(known as 'IAM_SERVER_THREAD_FAILED',
        `serving thread ${index}: ${detail}`));
    };
    const timer = setTimeout(() => fail('IAM_SERVER_THREAD_FAILED', 'did not start in time'),
      kStartTimeoutMs);
    member.channel.onNote<Note<'ready'>>('ready', () => {
      clearTimeout(timer);
      resolve();
    });
    member.channel.onNote<Note<'failed'>>('failed', (n) => fail(n.code, n.detail));
    member.worker.once('error', (err) => fail('IAM_SERVER_THREAD_FAILED', err.message));
    void member.exited.then(() => fail('IAM_SERVER_THREAD_FAILED', 'exited during start-up'));
  });
}
