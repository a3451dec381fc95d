/**
 * Status lines for uWebSockets.js's `writeStatus`, built once per code.
 */
import { STATUS_CODES } from 'node:http';

const kCache = new Map<number, string>();

/** "404 Not Found" for 404; a three-digit code with an unknown reason keeps the code alone. */
export function statusLine(status: number): string {
  let line = kCache.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    if (kCache.size < 1000) kCache.set(status, line);
  }
  return line;
}
