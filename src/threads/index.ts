/**
 * The serving threads (src/threads/README.md): the main thread's side. The thread entry
 * (serving-worker.ts) is started by file path and never imported.
 */
export type { ActiveBundle, ThreadStats } from './protocol.js';
export { ServingThreads, type SharedParts } from './serving-threads.js';
export {
  servingThreadCount, type SharedStages, type StartedThreads, startServingThreads,
} from './start.js';
