/**
 * Test app: listens on $PORT (after $LISTEN_DELAY_MS), prints when it does. On SIGTERM it closes
 * and exits 0, unless IGNORE_TERM=1 (then only SIGKILL stops it). With EXIT_AFTER_MS it exits
 * with code 3 that long after listening (a crash after a stable run).
 */
import { createServer } from 'node:net';

const port = Number(process.env.PORT);
const delay = Number(process.env.LISTEN_DELAY_MS ?? 0);
const server = createServer((socket) => socket.end());

process.on('SIGTERM', () => {
  if (process.env.IGNORE_TERM === '1') {
    console.log('ignoring SIGTERM');
    return;
  }
  console.log('got SIGTERM');
  server.close();
  process.exit(0);
});

setTimeout(() => {
  server.listen(port, '127.0.0.1', () => {
    console.log(`listening on ${port} at ${Date.now()}`);
    const exitAfter = process.env.EXIT_AFTER_MS;
    if (exitAfter !== undefined) setTimeout(() => process.exit(3), Number(exitAfter));
  });
}, delay);
