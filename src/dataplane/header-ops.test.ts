/**
 * Header operations read the same wherever they are applied: on the wire (HeaderList), in the
 * engine's view of the next hop's request (withOps), and in `explain` (a plain map).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyHeaderOps, mapHeaders } from '../core/engine/apply-ops.ts';
import type { HeaderOp } from '../core/engine/types.ts';
import { requestView, withOps } from '../core/engine/view.ts';
import { HeaderList } from './headers.ts';
import { RawRequestView } from './request-view.ts';

const BEFORE: [string, string][] = [
  ['cookie', 'a=1'],
  ['x-tag', 'one'],
  ['baggage', 'k=v'],
  ['x-drop', 'gone'],
];
const OPS: HeaderOp[] = [
  { op: 'add', name: 'cookie', value: 'b=2' },
  { op: 'add', name: 'x-tag', value: 'two' },
  { op: 'set-baggage', key: 'lane', value: 'v2' },
  { op: 'remove', name: 'x-drop' },
  { op: 'set', name: 'x-lane', value: 'v2' },
];
const AFTER: Record<string, string | undefined> = {
  cookie: 'a=1; b=2',
  'x-tag': 'one, two',
  baggage: 'lane=v2,k=v',
  'x-drop': undefined,
  'x-lane': 'v2',
};

const readers: { title: string; read: () => (name: string) => string | undefined }[] = [
  {
    title: 'the wire (HeaderList, read back as the next hop parses it)',
    read: () => {
      const list = new HeaderList();
      for (const [name, value] of BEFORE) list.push(name, name, value);
      applyHeaderOps(list, OPS);
      const raw = list
        .serialize()
        .trimEnd()
        .split('\r\n')
        .flatMap((line) => line.split(': '));
      const next = new RawRequestView('GET', 'h', '/', raw);
      return (name) => next.header(name);
    },
  },
  {
    title: "the engine's view of the next hop's request (withOps)",
    read: () => {
      const view = withOps(
        requestView({ authority: 'h', headers: Object.fromEntries(BEFORE) }),
        OPS,
      );
      return (name) => view.header(name);
    },
  },
  {
    title: 'a plain map (explain)',
    read: () => {
      const map = new Map(BEFORE);
      applyHeaderOps(mapHeaders(map), OPS);
      return (name) => map.get(name);
    },
  },
];

describe('header operations', () => {
  for (const r of readers) {
    test(`applied to ${r.title}, they give the same fields`, () => {
      const read = r.read();
      for (const [name, value] of Object.entries(AFTER)) assert.equal(read(name), value, name);
    });
  }
});
