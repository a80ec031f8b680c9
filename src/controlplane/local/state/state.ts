/**
 * The local daemon's state directory: what was applied (written atomically and durably before
 * `apply` returns), the API token (mode 0600), the running daemon's address, the gateways' ports
 * (so their URLs survive restarts), workload logs and Node's compile cache. A directory that is
 * not a lanes state directory, or whose files are corrupt, is an error that says so — never a
 * silent reset. So is one another user could write into (see untrustedDir): it holds the token.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DAEMON_JSON, type DaemonInfo, PID_FILE, TOKEN_FILE, untrustedDir } from './state-dir.ts';

const MARKER = 'lanes-state.json';
const OVERRIDE_KEY_FILE = 'override.key';
const FORMAT = 'lanes-state/1';
const RESOURCES_FORMAT = 'lanes-resources/1';
export const RELEASES_FILE = 'releases.json';

export class StateError extends Error {}

/** One applied document, as stored: enough to validate it again with the same positions. */
export interface StoredDocument {
  readonly cluster: string;
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** The directory the file was in (relative workingDirs resolve against it); absent for stdin. */
  readonly dir?: string;
}

/** Writes a file so that a crash leaves either the old or the new content, never a mix. */
export function writeDurably(path: string, data: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    // A stray temporary file would make a new state directory look foreign on the next open.
    rmSync(tmp, { force: true });
    throw error;
  }
  // The rename itself is durable only once the directory entry is on disk.
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isStoredDocument(value: unknown): value is StoredDocument {
  return (
    isObject(value) &&
    typeof value.cluster === 'string' &&
    typeof value.file === 'string' &&
    typeof value.text === 'string' &&
    Number.isSafeInteger(value.line) &&
    (value.line as number) >= 1
  );
}

export class StateDir {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Opens a state directory, creating it (mode 0700) when it does not exist or is empty. It must
   * be the current user's and not writable by group or others (an empty one is made 0700).
   */
  static open(dir: string): StateDir {
    const abs = resolve(dir);
    if (!existsSync(abs)) {
      try {
        // 0700 (umask can only take bits away): only we may read the token or write daemon.json.
        mkdirSync(abs, { recursive: true, mode: 0o700 });
      } catch (error) {
        throw new StateError(
          `cannot create the state directory ${abs} (${(error as Error).message}); choose another with --state`,
        );
      }
    }
    const stat = statSync(abs);
    if (!stat.isDirectory()) {
      throw new StateError(`${abs} is not a directory; choose a state directory with --state`);
    }
    const marker = join(abs, MARKER);
    const fresh = !existsSync(marker);
    const refuseForeign = () => {
      if (!fresh || readdirSync(abs).length === 0) return;
      throw new StateError(
        `${abs} is not a lanes state directory (it has files but no ${MARKER}); lanes will not write into it — choose another with --state or $LANES_HOME`,
      );
    };
    refuseForeign();
    // An empty directory of ours becomes a state directory: give it the mode lanes creates them
    // with (`mkdir` under a umask of 002 makes 0775). Anything else keeps its mode, checked here.
    if (fresh && stat.uid === process.getuid?.()) chmodSync(abs, 0o700);
    const untrusted = untrustedDir(abs, statSync(abs));
    if (untrusted !== undefined) throw new StateError(untrusted);
    if (fresh) {
      // Again: a file slipped in before the chmod could be someone else's daemon.json.
      refuseForeign();
      writeDurably(
        marker,
        `${JSON.stringify({ format: FORMAT, createdAt: new Date().toISOString() })}\n`,
      );
    } else {
      let data: unknown;
      try {
        data = JSON.parse(readFileSync(marker, 'utf8'));
      } catch (error) {
        throw new StateError(
          `${marker} is corrupt (${(error as Error).message}); lanes will not reset the state directory — fix or remove it`,
        );
      }
      const format = isObject(data) ? data.format : undefined;
      if (format !== FORMAT) {
        throw new StateError(
          `${marker} says ${abs} was written by an incompatible lanes (format ${JSON.stringify(format) ?? 'missing'}, this lanes reads ${FORMAT}); lanes will not reset it`,
        );
      }
    }
    const state = new StateDir(abs);
    mkdirSync(state.logsDir, { recursive: true, mode: 0o700 });
    return state;
  }

  get logsDir(): string {
    return join(this.dir, 'logs');
  }

  /** The `node` and `lanes` first on every local instance's PATH (workloads/tool-shims.ts). */
  get binDir(): string {
    return join(this.dir, 'bin');
  }

  get compileCacheDir(): string {
    return join(this.dir, 'compile-cache');
  }

  get pidFile(): string {
    return join(this.dir, PID_FILE);
  }

  get daemonLog(): string {
    return join(this.dir, 'daemon.log');
  }

  /** The API token, created (mode 0600) on first use. */
  token(): string {
    const path = join(this.dir, TOKEN_FILE);
    if (!existsSync(path)) writeDurably(path, `${randomBytes(32).toString('hex')}\n`, 0o600);
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077)
      throw new StateError(
        `${path} is readable by others (mode ${mode.toString(8)}); run chmod 600 ${path}`,
      );
    const token = readFileSync(path, 'utf8').trim();
    // An empty token would match a request without any Authorization header.
    if (token === '')
      throw new StateError(`${path} is empty; remove it and lanes creates a new token`);
    return token;
  }

  /**
   * The mesh's key for per-request overrides (HMAC-SHA256, 32 random bytes), created (mode 0600)
   * on first use. Whoever reads it can sign overrides, so it is guarded like the API token.
   */
  overrideSecret(): Uint8Array {
    const path = join(this.dir, OVERRIDE_KEY_FILE);
    if (!existsSync(path)) this.rotateOverrideSecret();
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077)
      throw new StateError(
        `${path} is readable by others (mode ${mode.toString(8)}), so they could sign overrides; run chmod 600 ${path}`,
      );
    const text = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(text))
      throw new StateError(
        `${path} is not an override key (64 hex digits); remove it and lanes creates a new one (every override signed with the old one stops working)`,
      );
    return Buffer.from(text, 'hex');
  }

  /** Replaces the override key: every override signed with the old one stops working. */
  rotateOverrideSecret(): void {
    writeDurably(join(this.dir, OVERRIDE_KEY_FILE), `${randomBytes(32).toString('hex')}\n`, 0o600);
  }

  /** What was applied; an empty list for a new directory. */
  readDocuments(): StoredDocument[] {
    const path = join(this.dir, 'resources.json');
    if (!existsSync(path)) return [];
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new StateError(
        `${path} is corrupt (${(error as Error).message}); lanes will not reset it — fix it, or move it away to start empty`,
      );
    }
    const format = isObject(data) ? data.format : undefined;
    if (!isObject(data) || format !== RESOURCES_FORMAT || !Array.isArray(data.documents)) {
      throw new StateError(
        `${path} is not a lanes resource file (format ${JSON.stringify(format) ?? 'missing'}, expected ${RESOURCES_FORMAT} with a list of documents); lanes will not reset it`,
      );
    }
    const documents = data.documents as unknown[];
    documents.forEach((doc, i) => {
      if (!isStoredDocument(doc)) {
        throw new StateError(
          `${path} is corrupt: document ${i + 1} needs cluster, file and text strings and a line number ≥ 1; lanes will not reset it — fix it, or move it away to start empty`,
        );
      }
    });
    return documents as StoredDocument[];
  }

  writeDocuments(documents: readonly StoredDocument[]): void {
    writeDurably(
      join(this.dir, 'resources.json'),
      `${JSON.stringify({ format: RESOURCES_FORMAT, documents }, null, 1)}\n`,
    );
  }

  /**
   * The state of every release (src/controlplane/local/releases.ts owns its shape), or undefined
   * when none was written yet. A corrupt file is an error, never a silent restart of releases.
   */
  readReleases(): unknown {
    const path = join(this.dir, RELEASES_FILE);
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new StateError(
        `${path} is corrupt (${(error as Error).message}); lanes will not restart releases from nothing — fix it, or move it away to forget every release's progress`,
      );
    }
  }

  writeReleases(data: unknown): void {
    writeDurably(join(this.dir, RELEASES_FILE), `${JSON.stringify(data)}\n`);
  }

  readPorts(): Record<string, number> {
    const path = join(this.dir, 'ports.json');
    if (!existsSync(path)) return {};
    // Ports are a convenience (stable URLs); a damaged file, or entry, only means new ports.
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return {};
    }
    const ports: Record<string, number> = {};
    if (!isObject(data) || Array.isArray(data)) return ports;
    for (const [key, port] of Object.entries(data)) {
      if (Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536)
        ports[key] = port as number;
    }
    return ports;
  }

  writePorts(ports: Readonly<Record<string, number>>): void {
    writeDurably(join(this.dir, 'ports.json'), `${JSON.stringify(ports, null, 1)}\n`);
  }

  writeDaemonInfo(info: DaemonInfo): void {
    writeDurably(join(this.dir, DAEMON_JSON), `${JSON.stringify(info)}\n`);
  }

  removeDaemonInfo(): void {
    try {
      unlinkSync(join(this.dir, DAEMON_JSON));
    } catch {
      // Already gone.
    }
  }
}
