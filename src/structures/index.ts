/** Data structures shared by several stages (no stage logic lives here). */
export { LruMap } from './lru-map.js';
export { workerExecArgv } from './worker-exec-argv.js';
