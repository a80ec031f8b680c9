/**
 * The `node` and `lanes` a local instance finds first on its PATH: the Node that runs the daemon
 * and the daemon's own CLI. Without them `command: [node, app.js]` would run whatever Node the
 * shell that started the daemon had first (the system's may be too old for the injected
 * OpenTelemetry SDK, which is TypeScript loaded with --import), and `command: [lanes, mock]`
 * would work only when the daemon happened to be started through npx.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Tools {
  /** The Node executable (process.execPath of the daemon). */
  readonly node: string;
  /** The CLI's main module, run by that Node; undefined: no `lanes` shim. */
  readonly cli: string | undefined;
}

/** A POSIX shell word: single-quoted, with each `'` written as `'\''`. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** Writes `node` (a symlink) and `lanes` (a script) into `dir`, replacing what was there. */
export function writeToolShims(dir: string, tools: Tools): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const node = join(dir, 'node');
  rmSync(node, { force: true });
  symlinkSync(tools.node, node);
  const lanes = join(dir, 'lanes');
  if (tools.cli === undefined) {
    rmSync(lanes, { force: true });
    return;
  }
  const tmp = `${lanes}.tmp-${process.pid}`;
  writeFileSync(tmp, `#!/bin/sh\nexec ${shellQuote(tools.node)} ${shellQuote(tools.cli)} "$@"\n`);
  chmodSync(tmp, 0o755);
  renameSync(tmp, lanes);
}

/** `PATH` with `dir` first. */
export function pathWith(dir: string, path: string | undefined): string {
  return path === undefined || path === '' ? dir : `${dir}:${path}`;
}
