/**
 * The Lua edge filter rendered by `lanes render istio --edge-lua` against its TypeScript model
 * (`applyEdgeHygiene`, which the equivalence suite runs in front of every gateway): the Lua source
 * runs under a real Lua interpreter (LuaJIT, as in Envoy, or Lua 5.1) with Envoy's
 * `request_handle:headers()` API stood in by a table, over the same inputs, and must leave the
 * same headers. Skipped, saying so, where no Lua interpreter is installed (Debian: luajit).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { getBaggageValue } from '../src/core/carriers/baggage.ts';
import {
  applyEdgeHygiene,
  type EdgeHygiene,
  edgeHygieneLua,
} from '../src/core/render/istio/edge-extension.ts';

function findLua(): string | undefined {
  for (const name of ['luajit', 'lua5.1', 'lua']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim();
  }
  return undefined;
}

const LUA = findLua();

/** Envoy's header map API, enough for the filter: get (joined with ","), remove, replace. */
const HARNESS = `
local store = {}
for line in io.lines() do
  local name, value = string.match(line, "^([^\\t]*)\\t(.*)$")
  if name then table.insert(store, {name, value}) end
end
local headers = {}
function headers:get(name)
  local values = {}
  for _, h in ipairs(store) do if h[1] == name then table.insert(values, h[2]) end end
  if #values == 0 then return nil end
  return table.concat(values, ",")
end
function headers:remove(name)
  local kept = {}
  for _, h in ipairs(store) do if h[1] ~= name then table.insert(kept, h) end end
  store = kept
end
function headers:replace(name, value)
  self:remove(name)
  table.insert(store, {name, value})
end
local handle = {}
function handle:headers() return headers end
envoy_on_request(handle)
for _, h in ipairs(store) do io.write(h[1], "\\t", h[2], "\\n") end
`;

function runLua(h: EdgeHygiene, headers: Record<string, string>): Record<string, string> {
  const input = Object.entries(headers)
    .map(([k, v]) => `${k}\t${v}\n`)
    .join('');
  const out = execFileSync(LUA!, ['-e', `${edgeHygieneLua(h)}\n${HARNESS}`], {
    input,
    encoding: 'utf8',
  });
  const result: Record<string, string> = {};
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    result[line.slice(0, tab)] = line.slice(tab + 1);
  }
  return result;
}

const HYGIENE: EdgeHygiene = {
  headers: ['version', 'x-mse-tag'],
  baggageKeys: ['version', 'lane'],
};

const INPUTS: Record<string, string>[] = [
  { version: 'dev-alice', 'x-other': '1' },
  { 'x-mse-tag': 'v2', baggage: 'version=v2' },
  { baggage: 'version=dev-alice,user=alice;p=1' },
  { baggage: 'a=1, version = v1 ;prop=x, b=2' },
  { baggage: 'xversion=1,versionx=2,lane=v3' },
  { baggage: 'user=alice' },
  { baggage: ',, a=1 ,,b=2,' },
  { baggage: 'version' },
  { baggage: 'version;p=1,c=3' },
  { baggage: '   ' },
  { host: 'example.com', cookie: 'version=v2' },
];

describe('the Lua edge filter and its TypeScript model', () => {
  for (const input of INPUTS) {
    it(`leave the same headers: ${JSON.stringify(input)}`, (t) => {
      const model = applyEdgeHygiene(HYGIENE, input);
      for (const key of HYGIENE.baggageKeys)
        assert.equal(getBaggageValue(model.baggage, key), undefined, `no ${key} member is left`);
      if (!LUA) return t.skip('no Lua interpreter (luajit, lua5.1) is installed');
      assert.deepEqual(runLua(HYGIENE, input), model);
    });
  }
});
