/**
 * Test app: forks a grandchild that stays in its process group (it is not detached), writes the
 * grandchild's PID to $GRANDCHILD_PID_FILE and listens on $PORT. With EXIT_AFTER_MS it exits
 * (code 3) that long after listening, leaving the grandchild behind.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
  stdio: 'ignore',
});
writeFileSync(String(process.env.GRANDCHILD_PID_FILE), String(grandchild.pid));
console.log(`forked grandchild ${grandchild.pid}`);

createServer((socket) => socket.end()).listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('listening');
  const exitAfter = process.env.EXIT_AFTER_MS;
  if (exitAfter !== undefined) setTimeout(() => process.exit(3), Number(exitAfter));
});
