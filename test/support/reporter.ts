/**
 * The test reporter behind `npm test`: a dot per test while the suite runs, then the skipped
 * tests counted by reason (a skip is only acceptable with one, so it is shown), then every failure
 * with its name, place and assertion first (the stack after, trimmed to the test's own frames),
 * then the totals on a line of their own. node:test's dot reporter prints no totals and leads a
 * failure with a stack trace; spec prints thousands of lines.
 */
import { relative } from 'node:path';
import type { TestEvent } from 'node:test/reporters';

type Pass = Extract<TestEvent, { type: 'test:pass' }>['data'];
type Fail = Extract<TestEvent, { type: 'test:fail' }>['data'];
type Summary = Extract<TestEvent, { type: 'test:summary' }>['data'];

const WIDTH = 80;
const COLOR = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const red = (s: string) => (COLOR ? `\x1b[31m${s}\x1b[0m` : s);
const green = (s: string) => (COLOR ? `\x1b[32m${s}\x1b[0m` : s);

/** `src/x.test.ts:12` from the event's absolute file URL or path. */
function place(data: Pass | Fail): string {
  const file = data.file ? relative(process.cwd(), data.file.replace(/^file:\/\//, '')) : '?';
  return data.line === undefined ? file : `${file}:${data.line}`;
}

/** The failure's own message first; node:test wraps it in a `cause`. */
function describeError(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  if (!(cause instanceof Error)) return String(cause);
  const stack = (cause.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l) && !l.includes('node:internal') && !l.includes('node:async'))
    .slice(0, 4)
    .join('\n');
  return stack === '' ? cause.message : `${cause.message}\n${stack}`;
}

/** Skipped tests of one reason: how many, and where the first one is. */
interface Skipped {
  count: number;
  readonly first: string;
}

/** A skip's reason is its message (`t.skip('why')`, `{ skip: 'why' }`); a bare skip has none. */
function noteSkip(skips: Map<string, Skipped>, data: Pass): void {
  const reason =
    typeof data.skip === 'string' && data.skip !== '' ? data.skip : '(no reason given)';
  const known = skips.get(reason);
  if (known) known.count++;
  else skips.set(reason, { count: 1, first: place(data) });
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export default async function* reporter(
  source: AsyncIterable<TestEvent>,
): AsyncGenerator<string, void> {
  const failures: Fail[] = [];
  const skips = new Map<string, Skipped>();
  let column = 0;
  let total: Summary | undefined;
  const dot = (c: string): string => {
    column++;
    if (column < WIDTH) return c;
    column = 0;
    return `${c}\n`;
  };
  for await (const event of source) {
    switch (event.type) {
      case 'test:pass':
        if (event.data.details.type === 'test') {
          if (event.data.skip) noteSkip(skips, event.data);
          yield dot(event.data.skip ? ',' : '.');
        }
        break;
      case 'test:fail':
        // A suite fails because a test in it did (already counted), or because its own hook threw.
        if (
          event.data.details.type === 'test' ||
          (event.data.details.error as { failureType?: string })?.failureType !== 'subtestsFailed'
        ) {
          failures.push(event.data);
          yield dot(red('X'));
        }
        break;
      case 'test:summary':
        // One summary per file, then one with no file for the whole run.
        if (event.data.file === undefined) total = event.data;
        break;
      default:
        break;
    }
  }
  if (column > 0) yield '\n';
  if (skips.size > 0) {
    yield '\nskipped, by reason:\n';
    for (const [reason, k] of [...skips].sort((a, b) => b[1].count - a[1].count))
      yield `  ${String(k.count).padStart(4)} × ${reason} (${k.first}${k.count > 1 ? ', …' : ''})\n`;
  }
  if (failures.length > 0) {
    yield `\n${red(`${failures.length} failed:`)}\n`;
    for (const f of failures) {
      yield `\n${red('✖')} ${f.name}\n  ${place(f)}\n${indent(describeError(f.details.error), '    ')}\n`;
    }
  }
  if (total === undefined) {
    yield `\n${red('the run ended without a summary')}\n`;
    return;
  }
  const c = total.counts;
  const failed = c.tests - c.passed - c.skipped - c.todo - c.cancelled;
  const line = [
    `tests ${c.tests}`,
    `passed ${c.passed}`,
    `failed ${failed}`,
    `skipped ${c.skipped}`,
    ...(c.todo > 0 ? [`todo ${c.todo}`] : []),
    ...(c.cancelled > 0 ? [`cancelled ${c.cancelled}`] : []),
    duration(total.duration_ms),
  ].join(' · ');
  yield `\n${total.success ? green(line) : red(line)}\n`;
}
