import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import { ConfigStore } from '../../dataplane/config.ts';
import { Gateways } from './gateways.ts';
import { StateDir } from './state/state.ts';

const GATEWAY = loadResources([
  {
    file: 'gw.yaml',
    text: `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ingressgateway, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
`,
  },
]).resources;
const KEY = 'istio-system/ingressgateway@default:80';

const root = mkdtempSync(join(tmpdir(), 'lanes-gateways-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A listener on 127.0.0.1, port 0: a port that is certainly taken while it runs. */
async function occupy(): Promise<net.Server> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('gateway listeners keep their port across restarts, and say when they cannot', () => {
  test('a remembered port that is free is taken again, with no note', async () => {
    const state = StateDir.open(join(root, `case-${++counter}`));
    const first = new Gateways(state, new ConfigStore(), undefined);
    await first.reconcile(GATEWAY);
    const url = first.views()[0]!.url;
    await first.closeAll();
    const second = new Gateways(state, new ConfigStore(), undefined);
    await second.reconcile(GATEWAY);
    assert.deepEqual(second.views(), [
      { name: 'ingressgateway', namespace: 'istio-system', cluster: 'default', url },
    ]);
    await second.closeAll();
  });

  test('a remembered port another program holds: a new port, remembered, and movedFrom the old one', async () => {
    const state = StateDir.open(join(root, `case-${++counter}`));
    const squatter = await occupy();
    const taken = (squatter.address() as net.AddressInfo).port;
    state.writePorts({ [KEY]: taken });
    const gateways = new Gateways(state, new ConfigStore(), undefined);
    try {
      await gateways.reconcile(GATEWAY);
      const [view] = gateways.views();
      assert.equal(view?.movedFrom, taken);
      const port = Number(new URL(view!.url).port);
      assert.notEqual(port, taken);
      assert.equal(state.readPorts()[KEY], port, 'the next start tries the new port');
    } finally {
      await gateways.closeAll();
      squatter.close();
    }
  });
});
