/**
 * The wrk Lua script of the cold-verification runs: every request carries the next token of a
 * file (one compact JWS per line), so no target ever sees a token twice within a run. Once the
 * file is used up, requests go out without a token and are refused with 401, which marks the
 * run invalid instead of letting a target reuse tokens unnoticed.
 *
 * Arguments (after wrk's `--`): the token file and the request path. The file is read in
 * `init`, before wrk starts its clock. The script ends with the latency `done` hook
 * (wrk-latency-script.ts), so token runs report p99.9 like every other run.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { kLatencyDoneHook } from './wrk-latency-script.js';

const kScript = `-- Written by bench/e2e/wrk-token-script.ts: one unique bearer token per request.
local tokens = {}
local count = 0
local sent = 0
local path = "/"

function init(args)
  path = args[2]
  for line in io.lines(args[1]) do
    if #line > 0 then
      count = count + 1
      tokens[count] = line
    end
  end
end

function request()
  sent = sent + 1
  if sent > count then
    return wrk.format("GET", path .. "?tokens-exhausted", {})
  end
  local token = tokens[sent]
  tokens[sent] = nil
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
${kLatencyDoneHook}`;

/** Writes the script into `dir` and returns its path. */
export async function writeTokenScript(dir: string): Promise<string> {
  const path = join(dir, 'unique-tokens.lua');
  await writeFile(path, kScript);
  return path;
}
