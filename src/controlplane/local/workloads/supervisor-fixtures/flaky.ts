/**
 * Test app: counts its runs in $RUN_FILE. The first $FAST_RUNS runs exit with code 3 after 50 ms;
 * later runs listen on $PORT and exit with code 3 after $STABLE_MS (a stable run, then a crash).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const file = String(process.env.RUN_FILE);
let run = 1;
try {
  run = Number(readFileSync(file, 'utf8')) + 1;
} catch {}
writeFileSync(file, String(run));
console.log(`run ${run}`);

if (run <= Number(process.env.FAST_RUNS)) {
  setTimeout(() => process.exit(3), 50);
} else {
  createServer((socket) => socket.end()).listen(Number(process.env.PORT), '127.0.0.1', () => {
    setTimeout(() => process.exit(3), Number(process.env.STABLE_MS));
  });
}
