/**
 * npm run lock — `npm install`, then completes package-lock.json for other platforms.
 *
 * Why: the npm registry mirror of our build machines does not serve the platform packages of
 * other systems (e.g. @biomejs/cli-darwin-arm64 answers 404), so npm leaves them out of the lock
 * file, and `npm ci` — what CI runs — then refuses the lock file as out of sync. A lock file made
 * with the full registry lists every platform's optional package, and `npm ci` skips the ones
 * whose os/cpu/libc do not match without fetching them. This adds those entries back, derived
 * from the parent's `optionalDependencies` and the `<name>-<os>-<cpu>[-musl]` naming convention;
 * a missing optional package that does not follow it is an error, not a guess.
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  optionalDependencies?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

const PLATFORM =
  /-(android|darwin|linux|win32|freebsd|openbsd|sunos|aix)-(x64|arm64|arm|ia32|ppc64|s390x|riscv64)(-(musl|gnu|msvc))?$/;

if (!process.argv.includes('--no-install'))
  execSync('npm install --no-audit --no-fund --loglevel=warn', { stdio: 'inherit' });

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8')) as { packages: Record<string, LockEntry> };
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const childKey = `${key === '' ? '' : `${key}/`}node_modules/${name}`.replace(/^\//, '');
    const siblingKey = `node_modules/${name}`;
    if (lock.packages[childKey] || lock.packages[siblingKey]) continue;
    const m = PLATFORM.exec(name);
    if (!m)
      throw new Error(
        `${name} (optional dependency of ${key || 'the root'}) is missing from the lock file and is not a platform package`,
      );
    const [, os, cpu, , abi] = m;
    // Keys in the order npm writes them, so that `npm install` in a fresh clone rewrites nothing.
    const child: LockEntry = {
      version,
      cpu: [cpu!],
      ...(entry.dev ? { dev: true } : {}),
      ...(os === 'linux' ? { libc: [abi === 'musl' ? 'musl' : 'glibc'] } : {}),
      optional: true,
      os: [os!],
    };
    lock.packages[siblingKey] = child;
    added++;
  }
}
const sorted: Record<string, LockEntry> = {};
for (const key of Object.keys(lock.packages).sort()) sorted[key] = lock.packages[key]!;
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform entr${added === 1 ? 'y' : 'ies'}`);
