/**
 * What makes an HTTP/2 message well-formed (RFC 9113 §8.1–8.3): pseudo-header fields, field name
 * and value characters, connection-specific fields, Content-Length. A message that breaks one of
 * them is malformed — a stream error, never forwarded — which is what closes the h2 → h1
 * smuggling vectors (a CR LF or a Transfer-Encoding smuggled in a field, a length that lies).
 */

export interface H2RequestHead {
  readonly method: string;
  /** Absent only for CONNECT. */
  readonly scheme: string | undefined;
  /** `:authority`, else the Host field; '' when neither is there. */
  readonly authority: string;
  /** Path and query; '' for CONNECT. */
  readonly path: string;
  /** Regular fields `[name, value, …]` (lower case), without Host. */
  readonly fields: string[];
  readonly contentLength: number | undefined;
}

export interface H2ResponseHead {
  readonly status: number;
  readonly fields: string[];
  readonly contentLength: number | undefined;
}

/** Fields an HTTP/2 message must not carry (RFC 9113 §8.2.2); `te` is allowed as "trailers". */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
]);

/** tchar (RFC 9110 §5.6.2) minus upper case: HTTP/2 field names are lower case. */
const NAME_CHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")
  NAME_CHAR[c.charCodeAt(0)] = 1;

/** Why a regular field is malformed, or undefined. */
export function fieldProblem(name: string, value: string): string | undefined {
  if (name.length === 0) return 'an empty field name';
  for (let i = 0; i < name.length; i++) {
    if (NAME_CHAR[name.charCodeAt(i)] !== 1) {
      return `field name ${JSON.stringify(name)} has a character HTTP/2 does not allow (names are lower-case tokens)`;
    }
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d)
      return `field ${name} has a NUL, CR or LF in its value`;
  }
  if (value.length > 0) {
    const first = value.charCodeAt(0);
    const last = value.charCodeAt(value.length - 1);
    if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09)
      return `field ${name} has whitespace around its value`;
  }
  if (CONNECTION_SPECIFIC.has(name))
    return `field ${name} is connection-specific and not allowed in HTTP/2`;
  if (name === 'te' && value !== 'trailers') return 'field te may only be "trailers" in HTTP/2';
  return undefined;
}

/** A Content-Length value (all fields of it agreeing), undefined when absent, or an error. */
function contentLengthOf(current: number | undefined, value: string): number | string {
  // A list of equal values ("5, 5") is allowed as in HTTP/1.1; anything else is malformed.
  let parsed: number | undefined;
  for (const part of value.split(',')) {
    const t = part.trim();
    if (!/^[0-9]{1,15}$/.test(t)) return `content-length ${JSON.stringify(value)} is not a number`;
    const n = Number(t);
    if (parsed !== undefined && n !== parsed) return 'content-length has conflicting values';
    parsed = n;
  }
  if (current !== undefined && current !== parsed) return 'content-length has conflicting values';
  return parsed!;
}

/** Validates a request header block; returns the head or why it is malformed. */
export function requestHead(block: readonly string[]): H2RequestHead | string {
  let method: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string | undefined;
  let host: string | undefined;
  let contentLength: number | undefined;
  let regular = false;
  const fields: string[] = [];
  for (let i = 0; i < block.length; i += 2) {
    const name = block[i]!;
    const value = block[i + 1]!;
    if (name.charCodeAt(0) === 0x3a /* : */) {
      if (regular) return `pseudo-header ${name} after a regular field`;
      switch (name) {
        case ':method':
          if (method !== undefined) return 'two :method pseudo-headers';
          method = value;
          break;
        case ':scheme':
          if (scheme !== undefined) return 'two :scheme pseudo-headers';
          scheme = value;
          break;
        case ':authority':
          if (authority !== undefined) return 'two :authority pseudo-headers';
          authority = value;
          break;
        case ':path':
          if (path !== undefined) return 'two :path pseudo-headers';
          path = value;
          break;
        default:
          return `pseudo-header ${name} is not allowed in a request`;
      }
      continue;
    }
    regular = true;
    const problem = fieldProblem(name, value);
    if (problem) return problem;
    if (name === 'host') {
      if (host !== undefined) return 'two host fields';
      host = value;
      continue;
    }
    if (name === 'content-length') {
      const n = contentLengthOf(contentLength, value);
      if (typeof n === 'string') return n;
      contentLength = n;
    }
    fields.push(name, value);
  }
  if (method === undefined) return 'no :method pseudo-header';
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method))
    return `:method ${JSON.stringify(method)} is not a token`;
  if (method === 'CONNECT') {
    if (scheme !== undefined || path !== undefined)
      return 'a CONNECT request must not have :scheme or :path';
    if (!authority) return 'a CONNECT request needs :authority';
  } else {
    if (scheme === undefined) return 'no :scheme pseudo-header';
    if (path === undefined) return 'no :path pseudo-header';
    if (path === '') return 'an empty :path';
    if (path.charCodeAt(0) !== 0x2f && !(path === '*' && method === 'OPTIONS'))
      return `:path ${JSON.stringify(path.slice(0, 100))} is not origin-form`;
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c <= 0x20 || c >= 0x7f) return ':path has a space, a control or a non-ASCII character';
    }
  }
  for (const v of [authority, host]) {
    if (v === undefined) continue;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c <= 0x20 || c >= 0x7f || c === 0x2f || c === 0x3f || c === 0x23 || c === 0x40)
        return `authority ${JSON.stringify(v.slice(0, 100))} is not host[:port]`;
    }
  }
  if (
    authority !== undefined &&
    host !== undefined &&
    authority.toLowerCase() !== host.toLowerCase()
  )
    return `host ${JSON.stringify(host)} names another authority than :authority ${JSON.stringify(authority)}`;
  return {
    method,
    scheme,
    authority: authority ?? host ?? '',
    path: path ?? '',
    fields,
    contentLength,
  };
}

/** Validates a response header block (final or informational). */
export function responseHead(block: readonly string[]): H2ResponseHead | string {
  let status: number | undefined;
  let regular = false;
  let contentLength: number | undefined;
  const fields: string[] = [];
  for (let i = 0; i < block.length; i += 2) {
    const name = block[i]!;
    const value = block[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) return `pseudo-header ${name} after a regular field`;
      if (name !== ':status') return `pseudo-header ${name} is not allowed in a response`;
      if (status !== undefined) return 'two :status pseudo-headers';
      if (!/^[1-9][0-9][0-9]$/.test(value))
        return `:status ${JSON.stringify(value)} is not 3 digits`;
      status = Number(value);
      continue;
    }
    regular = true;
    const problem = fieldProblem(name, value);
    if (problem) return problem;
    if (name === 'content-length') {
      const n = contentLengthOf(contentLength, value);
      if (typeof n === 'string') return n;
      contentLength = n;
    }
    fields.push(name, value);
  }
  if (status === undefined) return 'no :status pseudo-header';
  return { status, fields, contentLength };
}

/** Validates a trailer block: regular fields only. */
export function trailersProblem(block: readonly string[]): string | undefined {
  for (let i = 0; i < block.length; i += 2) {
    const name = block[i]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} in trailers`;
    const problem = fieldProblem(name, block[i + 1]!);
    if (problem) return problem;
  }
  return undefined;
}
