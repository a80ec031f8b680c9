/**
 * The dashboard page's files, served by the daemon from `client/` as they are in the repository:
 * HTML, CSS, and TypeScript modules turned into JavaScript by Node's own type stripper
 * (`module.stripTypeScriptTypes`, the same one that runs lanes itself). No bundler, no build
 * step, nothing fetched: the browser loads `app.ts` as a module and follows its relative
 * imports, each of which is another file here (type-only imports vanish when types are stripped).
 *
 * Stripping replaces types with spaces, so line and column numbers in the browser's errors are
 * those of the .ts source. The stripper is loaded on first use (about 20 MB and half a second
 * once per daemon; `warm()` starts it when a login URL is handed out), and each file is stripped
 * once and kept.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { fileURLToPath } from 'node:url';

export const CLIENT_DIR = fileURLToPath(new URL('./client/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  ts: 'text/javascript; charset=utf-8',
};

/** File names the page may ask for: no paths, no tests, only the types above. */
const SERVED = /^[a-z][a-z0-9-]*\.(html|css|ts)$/;

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

export class Assets {
  readonly #dir: string;
  readonly #cache = new Map<string, Asset>();

  constructor(dir = CLIENT_DIR) {
    this.#dir = dir;
  }

  /** The file as served, or undefined when there is no such file to serve. */
  get(name: string): Asset | undefined {
    const cached = this.#cache.get(name);
    if (cached) return cached;
    if (!SERVED.test(name) || name.endsWith('.test.ts')) return undefined;
    let text: string;
    try {
      text = readFileSync(`${this.#dir}${name}`, 'utf8');
    } catch {
      return undefined;
    }
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const body = Buffer.from(ext === 'ts' ? stripTypeScriptTypes(text, { mode: 'strip' }) : text);
    const asset = { type: TYPES[ext]!, body };
    this.#cache.set(name, asset);
    return asset;
  }

  /** Strips every module now, in the background, so the first page load does not wait for it. */
  warm(): void {
    setImmediate(() => {
      for (const name of readdirSync(this.#dir)) this.get(name);
    });
  }
}
