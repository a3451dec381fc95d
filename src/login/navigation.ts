/**
 * Which anonymous requests are sent to the login page instead of getting 401.
 *
 * A redirect helps only a person in a browser who opened the page; an API client, a fetch or
 * XHR call, or an image load would follow it into an HTML login form it cannot use, and a 302
 * where a 401 was expected hides the real answer. So a request counts as a top-level browser
 * navigation only when all of these hold:
 *
 * 1. the method is GET;
 * 2. it carries no `Authorization` header (a client that sends credentials is told they failed);
 * 3. `Accept` lists `text/html` (with a non-zero q), as browsers do for documents;
 * 4. `Sec-Fetch-Mode`, when sent, is `navigate`, and `Sec-Fetch-Dest`, when sent, is `document`
 *    (browsers send both; a fetch() from a page says `cors` or `same-origin` and `empty`);
 * 5. there is no `X-Requested-With` header (set by XHR libraries).
 *
 * Everything else keeps the 401 with its `WWW-Authenticate` challenge.
 */

/** Whether the request head describes a top-level browser navigation (see the file comment). */
export function isBrowserNavigation(method: string, headers: readonly string[]): boolean {
  if (method !== 'GET') return false;
  let acceptsHtml = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    switch (name) {
      case 'authorization':
      case 'x-requested-with':
        return false;
      case 'sec-fetch-mode':
        if (value.trim().toLowerCase() !== 'navigate') return false;
        break;
      case 'sec-fetch-dest':
        if (value.trim().toLowerCase() !== 'document') return false;
        break;
      case 'accept':
        if (listsHtml(value)) acceptsHtml = true;
        break;
    }
  }
  return acceptsHtml;
}

/** Whether an Accept value names `text/html` with a q above zero (RFC 9110 section 12.5.1). */
function listsHtml(accept: string): boolean {
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';');
    if (type.trim().toLowerCase() !== 'text/html') continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}
