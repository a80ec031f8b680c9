/**
 * Replays every case of the Http11Probe suite (test/data/http11probe) against
 * RequestParser and checks the outcome against the case's coarse verdict. Cases where we
 * deliberately differ are listed, with the reason, in DEVIATIONS.md: this test fails when a case
 * deviates without being listed there (or with another outcome than listed), and when a listed
 * case no longer deviates.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { cases, type ProbeCase, requestsOf } from '../../../test/support/http11probe.ts';
import { RequestParser } from './request-parser.ts';
import { bytes } from './test-helpers.ts';
import type { ParseError, RequestHead } from './types.ts';

const deviationsFile = new URL('./DEVIATIONS.md', import.meta.url);

interface Outcome {
  readonly kind: 'error' | 'accepted' | 'incomplete';
  readonly error: ParseError | undefined;
  readonly messages: number;
  readonly heads: RequestHead[];
  /** How DEVIATIONS.md names it. */
  readonly text: string;
}

function replay(steps: readonly string[], how: 'whole' | 'bytes'): Outcome {
  let error: ParseError | undefined;
  let messages = 0;
  const heads: RequestHead[] = [];
  const parser = new RequestParser({
    onHead: (h) => heads.push(h),
    onBody: () => {},
    onEnd: () => {
      messages++;
    },
    onError: (e) => {
      error = e;
    },
  });
  // Each step is one send on the same connection, as the probe does.
  for (const step of steps) {
    const b = bytes(step);
    if (how === 'whole') parser.execute(b);
    else for (let i = 0; i < b.length; i++) parser.execute(b.subarray(i, i + 1));
  }
  const n = `${messages} message${messages === 1 ? '' : 's'}`;
  if (error) {
    const text = `${error.status} ${error.code}${messages > 0 ? ` after ${n}` : ''}`;
    return { kind: 'error', error, messages, heads, text };
  }
  if (parser.idle && messages > 0)
    return { kind: 'accepted', error, messages, heads, text: `accepted (${n})` };
  const text = messages > 0 ? `incomplete after ${n}` : 'incomplete (waits for more bytes)';
  return { kind: 'incomplete', error, messages, heads, text };
}

/**
 * Whether an outcome is one the verdict allows. A rejection is the status the proxy answers
 * (then it closes); an accepted request is forwarded, and the upstream's 2xx is what the client
 * sees; an incomplete request waits for more bytes until a timeout closes the connection.
 */
function acceptable(c: ProbeCase, o: Outcome): boolean {
  const text = c.expected.toLowerCase();
  if (o.kind === 'error') return c.statuses.includes(o.error!.status) || /reject/.test(text);
  if (o.kind === 'incomplete') return c.closeOk || /timeout/.test(text);
  const last = o.heads[o.heads.length - 1];
  // Verdicts a parser decides by what it reports rather than by a status.
  if (/non-101|not 101/.test(text)) return o.heads.every((h) => h.upgrade === undefined);
  if (/non-1xx/.test(text)) return o.heads.every((h) => h.expect !== '100-continue');
  if (/any status except/.test(text)) return true;
  if (!(c.twoxxOk || c.statuses.includes(200))) return false;
  if (/2xx \+ 2xx/.test(text)) return o.messages === 2;
  if (/2xx\s*(\+|with)\s*(connection\s*)?close/.test(text)) return last?.keepAlive === false;
  return true;
}

interface Deviation {
  readonly id: string;
  readonly outcome: string;
}

/** Rows of the deviation table: | `ID` | expected | `outcome` | kind | why | (any padding). */
function documentedDeviations(): Map<string, Deviation> {
  const rows = new Map<string, Deviation>();
  const code = (cell: string | undefined) => /^`([^`]+)`$/.exec(cell?.trim() ?? '')?.[1];
  for (const line of readFileSync(deviationsFile, 'utf8').split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1);
    const id = code(cells[0]);
    const outcome = code(cells[2]);
    if (id !== undefined && outcome !== undefined) rows.set(id, { id, outcome });
  }
  return rows;
}

const documented = documentedDeviations();
const results = cases.map((c) => {
  const steps = requestsOf(c);
  const outcome = replay(steps, 'whole');
  return { c, steps, outcome, ok: acceptable(c, outcome) };
});

describe('Http11Probe cases', () => {
  test('the case file has every case the docs list (215)', () => {
    assert.equal(cases.length, 215);
  });

  for (const { c, steps, outcome, ok } of results) {
    const doc = documented.get(c.id);
    const verdict = ok ? 'as expected' : 'a documented deviation';
    test(`${c.id}: ${outcome.text} — ${verdict} (expected: ${c.expected})`, () => {
      if (!ok) {
        assert.ok(
          doc,
          `${c.id} deviates (${outcome.text}, expected "${c.expected}") and is not in DEVIATIONS.md`,
        );
        assert.equal(doc.outcome, outcome.text, `${c.id}: DEVIATIONS.md says another outcome`);
      } else {
        assert.equal(doc, undefined, `${c.id} is listed in DEVIATIONS.md but no longer deviates`);
      }
      // Unambiguous: the outcome does not depend on how the bytes arrive.
      if (steps.join('').length <= 20_000) assert.equal(replay(steps, 'bytes').text, outcome.text);
    });
  }

  test('DEVIATIONS.md lists only probe cases', () => {
    const ids = new Set(cases.map((c) => c.id));
    for (const id of documented.keys()) assert.ok(ids.has(id), `${id} is not a probe case`);
  });

  test('every smuggling case is rejected, or framed as the RFC says (documented)', () => {
    for (const { c, outcome, ok } of results) {
      if (c.category !== 'smuggling' || ok) continue;
      assert.equal(outcome.kind, 'accepted', `${c.id}: ${outcome.text}`);
    }
  });

  test('counts', (t) => {
    const passing = results.filter((r) => r.ok).length;
    t.diagnostic(`${passing} as expected, ${results.length - passing} documented deviations`);
    assert.equal(passing + documented.size, cases.length);
  });
});
