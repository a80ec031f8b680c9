/** Small socket helpers shared by tests: a port nothing listens on, and whether one answers. */
import { connect } from 'node:net';

/** A port nothing listens on: bound, then released (the daemon finds instance ports the same way). */
export { freePort as closedPort } from '../../src/controlplane/local/workloads/workloads.ts';

/** Whether something accepts a TCP connection on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
