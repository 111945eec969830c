/**
 * Whether a request's `Accept-Encoding` takes gzip (RFC 9110 §12.5.3): `gzip` (or its old alias `x-gzip`) listed
 * with a weight above 0, or, when neither is named, `*` with a weight above 0. No header: identity only, as a plain
 * `curl` sends. Browsers and Node's fetch always offer gzip.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  let named: boolean | undefined;
  let wildcard = false;
  for (const entry of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [coding = '', ...params] = entry.split(';').map((part) => part.trim().toLowerCase());
    const weight = params.find((param) => param.startsWith('q='));
    const accepted = weight === undefined || Number(weight.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') named = (named ?? false) || accepted;
    else if (coding === '*') wildcard = accepted;
  }
  return named ?? wildcard;
}
