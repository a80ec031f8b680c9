import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type InstanceEnvInput, instanceEnv } from './instance-env.ts';

const base: InstanceEnvInput = {
  inherited: { PATH: '/usr/bin', HOME: '/home/me' },
  injected: {},
  mesh: { PORT: '4100', http_proxy: 'http://127.0.0.1:4200' },
  env: [],
  argv: [],
};

describe('instanceEnv: one meaning of $(VAR) for env, command and args (Kubernetes rules)', () => {
  const rows: readonly {
    readonly name: string;
    readonly input: Partial<InstanceEnvInput>;
    readonly argv?: readonly string[];
    readonly env?: Readonly<Record<string, string | undefined>>;
  }[] = [
    {
      name: 'the same reference means the same in an env value and in args',
      input: { env: [{ name: 'ADDR', value: ':$(PORT)' }], argv: ['serve', '--listen=:$(PORT)'] },
      argv: ['serve', '--listen=:4100'],
      env: { ADDR: ':4100' },
    },
    {
      name: '$$ is a literal $ in args as in env values',
      input: { env: [{ name: 'LIT', value: '$$(PORT)' }], argv: ['echo', '$$(PORT)'] },
      argv: ['echo', '$(PORT)'],
      env: { LIT: '$(PORT)' },
    },
    {
      name: 'any name may be referenced, not only identifiers',
      input: { env: [{ name: 'my.var-1', value: 'x' }], argv: ['$(my.var-1)'] },
      argv: ['x'],
    },
    {
      name: 'an undefined name stays as written; so do the daemon’s own variables (the image’s ENV in Kubernetes)',
      input: { argv: ['$(NOPE)', '$(HOME)/x'] },
      argv: ['$(NOPE)', '$(HOME)/x'],
      env: { HOME: '/home/me' },
    },
    {
      name: 'args see every env entry; an env value sees only the entries before it',
      input: {
        env: [
          { name: 'A', value: '$(B)' },
          { name: 'B', value: 'b' },
        ],
        argv: ['$(A)', '$(B)'],
      },
      argv: ['$(B)', 'b'],
      env: { A: '$(B)', B: 'b' },
    },
    {
      name: 'the mesh variables win over the container’s own, and args expand to the mesh’s',
      input: { env: [{ name: 'PORT', value: '80' }], argv: ['--port', '$(PORT)'] },
      argv: ['--port', '4100'],
      env: { PORT: '4100' },
    },
    {
      name: 'PYTHONUNBUFFERED is 1 unless the container says otherwise',
      input: {},
      env: { PYTHONUNBUFFERED: '1' },
    },
    {
      name: 'a container that sets PYTHONUNBUFFERED keeps its value',
      input: { env: [{ name: 'PYTHONUNBUFFERED', value: '' }] },
      env: { PYTHONUNBUFFERED: '' },
    },
    {
      name: 'a container’s NODE_OPTIONS keeps what it says and still loads the injected SDK',
      input: {
        injected: { NODE_OPTIONS: '--import sdk', OTEL_PROPAGATORS: 'baggage' },
        env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=64' }],
        argv: ['$(OTEL_PROPAGATORS)'],
      },
      argv: ['baggage'],
      env: { NODE_OPTIONS: '--max-old-space-size=64 --import sdk' },
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const out = instanceEnv({ ...base, ...r.input });
      if (r.argv) assert.deepEqual(out.argv, r.argv);
      for (const [name, value] of Object.entries(r.env ?? {}))
        assert.equal(out.env[name], value, name);
    });
  }
});
