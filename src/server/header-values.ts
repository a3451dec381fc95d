/**
 * Reading one field out of a flat request header list (`[name, value, ...]`, names lower-case,
 * wire order, duplicates kept), as every listener's request path holds it.
 */

/**
 * The value of `name`: undefined when absent, null when the header is repeated (two
 * credentials, or two descriptions of one request, are one too many: nothing guesses which
 * one counts).
 */
export function singleHeaderValue(headers: readonly string[], name: string):
  string | undefined | null {
  let found: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== name) continue;
    if (found !== undefined) return null;
    found = headers[i + 1];
  }
  return found;
}

/** Every value of `name` joined by "," (RFC 9110 section 5.3); undefined when absent. */
export function joinedValue(headers: readonly string[], name: string): string | undefined {
  let joined: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== name) continue;
    joined = joined === undefined ? headers[i + 1] : `${joined},${headers[i + 1] as string}`;
  }
  return joined;
}
