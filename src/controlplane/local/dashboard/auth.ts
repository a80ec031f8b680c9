/**
 * How a browser gets into the dashboard without ever holding the API token: `lanes dashboard`
 * (which has the token) asks the daemon for a one-time login code and prints a URL with it; the
 * browser trades the code for a session cookie (HttpOnly, SameSite=Strict, path /dashboard) and
 * is redirected to a URL without it. A code works once and for a minute; a session only reads
 * (every dashboard endpoint is a GET) and dies with the daemon or after 12 hours.
 *
 * Against other sites in the same browser: the cookie is SameSite=Strict, so a cross-site page
 * cannot use it, and requests whose Host is not this loopback listener (DNS rebinding) are
 * refused before anything else (see server.ts).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'lanes_dashboard';
export const LOGIN_CODE_TTL_MS = 60_000;
export const SESSION_TTL_MS = 12 * 3600_000;
/** Outstanding codes and live sessions kept at most (the oldest go first). */
const MAX_CODES = 16;
const MAX_SESSIONS = 64;

function secret(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `name=value` pairs of a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class DashboardAuth {
  readonly #now: () => number;
  /** code → expiry (ms). */
  readonly #codes = new Map<string, number>();
  /** session id → expiry (ms). */
  readonly #sessions = new Map<string, number>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A code for one login within LOGIN_CODE_TTL_MS. */
  loginCode(): { readonly code: string; readonly expiresAt: number } {
    this.#sweep();
    while (this.#codes.size >= MAX_CODES) this.#codes.delete(this.#codes.keys().next().value!);
    const code = secret();
    const expiresAt = this.#now() + LOGIN_CODE_TTL_MS;
    this.#codes.set(code, expiresAt);
    return { code, expiresAt };
  }

  /** Trades a code (once) for a session id; undefined for a code unknown, used or expired. */
  redeem(code: string): string | undefined {
    this.#sweep();
    let found: string | undefined;
    for (const known of this.#codes.keys()) if (sameSecret(known, code)) found = known;
    if (found === undefined) return undefined;
    this.#codes.delete(found);
    while (this.#sessions.size >= MAX_SESSIONS)
      this.#sessions.delete(this.#sessions.keys().next().value!);
    const session = secret();
    this.#sessions.set(session, this.#now() + SESSION_TTL_MS);
    return session;
  }

  /** Whether the request's Cookie header names a live session. */
  allows(cookieHeader: string | undefined): boolean {
    const given = cookieValue(cookieHeader, SESSION_COOKIE);
    if (given === undefined) return false;
    this.#sweep();
    let ok = false;
    for (const known of this.#sessions.keys()) if (sameSecret(known, given)) ok = true;
    return ok;
  }

  /** The Set-Cookie value for a new session. */
  static cookie(session: string): string {
    return `${SESSION_COOKIE}=${session}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [code, until] of this.#codes) if (until <= now) this.#codes.delete(code);
    for (const [id, until] of this.#sessions) if (until <= now) this.#sessions.delete(id);
  }
}
