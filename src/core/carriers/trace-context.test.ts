import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readTestData } from '../../../test/support/test-data.ts';
import {
  type HeaderValue,
  MAX_OPAQUE_ID_LENGTH,
  newB3TraceId,
  newRequestId,
  newTraceparent,
  parseTraceparent,
  RANDOM_IDS,
  type TraceIdKind,
  traceIdFrom,
  traceIdKindOf,
  traceStartFields,
} from './trace-context.ts';

type Assertion =
  | { traceId: 'keep' | 'not'; value: string }
  | { parentId: 'changed'; was: string }
  | { python: string }
  | { tracestateHas: string }
  | { tracestateAbsent: string }
  | { tracestateValue: [string, string] };

interface Vector {
  suite: string;
  test: string;
  strictOnly: boolean;
  headers: [name: string, value: string][];
  callbacks: number;
  asserts: Assertion[];
}

const vectors = (JSON.parse(readTestData('w3c/tracecontext-vectors.json')) as { vectors: Vector[] })
  .vectors;

const TRACEPARENT_UNCHANGED =
  'a pass-through proxy forwards traceparent unchanged; a new parent-id is the job of the ' +
  'participant (the app), and the spec names unmodified propagation as what proxies do';
const TRACESTATE_UNTOUCHED =
  'the proxy never parses or rewrites tracestate: "If the value of the traceparent field ' +
  'wasn\'t changed before propagation, tracestate MUST NOT be modified as well"';

/**
 * What one suite assertion means for the trace-id memory. The suite checks the traceparent a
 * participant sends on; the proxy's question is whether the inbound header gives a trace id to key
 * on. "keep X" → the key is X. "not X" (the participant restarts the trace) → the header is unusable,
 * so no key at all: a restarted trace has a new id the proxy never saw.
 */
type Check =
  | { kind: 'key'; expected: string | undefined; title: string }
  | { kind: 'random-flag'; title: string }
  | { kind: 'skip'; reason: string; title: string };

function classify(a: Assertion): Check {
  if ('traceId' in a) {
    return a.traceId === 'keep'
      ? { kind: 'key', expected: a.value, title: `keys on trace id ${a.value}` }
      : { kind: 'key', expected: undefined, title: `does not key on ${a.value} (trace restarts)` };
  }
  if ('parentId' in a) {
    return {
      kind: 'skip',
      reason: TRACEPARENT_UNCHANGED,
      title: `parent-id changes from ${a.was}`,
    };
  }
  if ('python' in a) {
    if (/^self\.assertNotEqual\(traceparent\.trace_id\.hex\(\)/.test(a.python)) {
      return { kind: 'key', expected: undefined, title: `no trace id to key on: ${a.python}` };
    }
    if (/^self\.assert_bit_set\(traceparent\.trace_flags, 2\b/.test(a.python)) {
      return { kind: 'random-flag', title: 'keeps the random-trace-id flag it read' };
    }
    if (/tracestate/.test(a.python)) {
      return { kind: 'skip', reason: TRACESTATE_UNTOUCHED, title: a.python };
    }
  }
  if ('tracestateHas' in a || 'tracestateAbsent' in a || 'tracestateValue' in a) {
    return { kind: 'skip', reason: TRACESTATE_UNTOUCHED, title: JSON.stringify(a) };
  }
  throw new Error(`unclassified trace-context assertion ${JSON.stringify(a)}`);
}

/** The traceparent field lines as Node would hand them over (header names are case-insensitive). */
function traceparentOf(headers: Vector['headers']): HeaderValue {
  const values = headers.filter(([name]) => name.toLowerCase() === 'traceparent').map(([, v]) => v);
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

describe('W3C trace-context test vectors', () => {
  test('the vector file has the 80 vectors its README describes', () => {
    assert.equal(vectors.length, 80);
  });

  vectors.forEach((v, i) => {
    const traceparent = traceparentOf(v.headers);
    const checks = v.asserts.map(classify);
    // Headers besides traceparent that are tracestate or a misspelling of it (`trace-state`).
    const onlyTracestateVaries = v.headers.every(([name]) => /^trace(parent|.?state)$/i.test(name));

    describe(`#${i} ${v.suite}.${v.test} ${JSON.stringify(v.headers).slice(0, 140)}`, () => {
      for (const c of checks) {
        if (c.kind === 'skip') {
          test(c.title, { skip: c.reason }, () => {});
        } else if (c.kind === 'key') {
          test(c.title, () => {
            assert.equal(traceIdFrom('traceparent', traceparent), c.expected);
            assert.equal(parseTraceparent(traceparent)?.traceId, c.expected);
          });
        } else {
          test(c.title, () => {
            const flags = parseTraceparent(traceparent)?.flags ?? 0;
            assert.equal(flags & 0x02, 0x02);
          });
        }
      }

      // Vectors that assert nothing about the trace id still have an answer the spec fixes.
      if (!checks.some((c) => c.kind === 'key')) {
        if (traceparent === undefined) {
          test('has no trace id to key on, and a gateway can start one', () => {
            assert.equal(traceIdFrom('traceparent', traceparent), undefined);
            assert.ok(parseTraceparent(newTraceparent()));
          });
        } else if (onlyTracestateVaries && typeof traceparent === 'string') {
          // "failure to parse tracestate MUST NOT affect the parsing of traceparent"
          test('keys on the traceparent trace id whatever tracestate holds', () => {
            assert.equal(traceIdFrom('traceparent', traceparent), traceparent.slice(3, 35));
          });
        } else {
          throw new Error(`vector #${i} has no trace-id check`);
        }
      }
    });
  });
});

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  test('reads the fields of a version-00 header', () => {
    assert.deepEqual(parseTraceparent(`00-${ID}-${PARENT}-01`), {
      version: '00',
      traceId: ID,
      parentId: PARENT,
      flags: 1,
    });
  });

  test('reads the known fields of a higher version and ignores the fields after them', () => {
    assert.deepEqual(parseTraceparent(`fe-${ID}-${PARENT}-ff-anything goes\u0000 here`), {
      version: 'fe',
      traceId: ID,
      parentId: PARENT,
      flags: 0xff,
    });
  });

  const invalid: [value: string, why: string][] = [
    [`00-${ID.toUpperCase()}-${PARENT}-01`, 'upper-case hex in the trace id'],
    [`00-${ID}-${PARENT.toUpperCase()}-01`, 'upper-case hex in the parent id'],
    [`0A-${ID}-${PARENT}-01`, 'upper-case hex in the version'],
    [`00-${ID}-${PARENT}-0A`, 'upper-case hex in the flags'],
    [`ff-${ID}-${PARENT}-01`, 'version ff'],
    [`00-${ID}-${PARENT}-0`, 'version 00 one character short'],
    [`00-${ID}-${PARENT}-01-`, 'version 00 with a trailing dash'],
    [`cc-${ID}-${PARENT}-0`, 'a higher version shorter than 55 characters'],
    [
      `cc-${ID}-${PARENT}-01x`,
      'a higher version whose flags are followed by something other than a dash',
    ],
    [`00-${ID}-0000000000000000-01`, 'an all-zero parent id'],
    [`00-${'0'.repeat(32)}-${PARENT}-01`, 'an all-zero trace id'],
    [`00- ${ID.slice(1)}-${PARENT}-01`, 'whitespace inside the value'],
    [`00_${ID}_${PARENT}_01`, 'a delimiter other than a dash'],
    [
      `00-${ID}-${PARENT}-01, 00-${ID}-${PARENT}-01`,
      'two values joined with ", " as Node joins repeated lines',
    ],
    ['', 'an empty value'],
    ['x'.repeat(1 << 20), 'a 1 MB value'],
  ];
  for (const [value, why] of invalid) {
    test(`rejects ${why}`, () => {
      assert.equal(parseTraceparent(value), undefined);
      assert.equal(traceIdFrom('traceparent', value), undefined);
    });
  }

  test('accepts surrounding SP and HTAB, however long', () => {
    const value = `00-${ID}-${PARENT}-01`;
    assert.equal(traceIdFrom('traceparent', ` \t${value}\t `), ID);
    assert.equal(traceIdFrom('traceparent', `${value}${' '.repeat(1 << 20)}`), ID);
  });

  test('accepts a higher version with 1 MB of extra fields', () => {
    assert.equal(traceIdFrom('traceparent', `cc-${ID}-${PARENT}-01-${'x'.repeat(1 << 20)}`), ID);
  });

  test('reads a single field line given as an array and refuses two, even identical ones', () => {
    const value = `00-${ID}-${PARENT}-01`;
    assert.equal(traceIdFrom('traceparent', [value]), ID);
    assert.equal(traceIdFrom('traceparent', [value, value]), undefined);
    assert.equal(traceIdFrom('traceparent', []), undefined);
    assert.equal(parseTraceparent([value, value]), undefined);
  });
});

describe('traceIdFrom for B3', () => {
  const B3_128 = '80f198ee56343ba864fe8b2a57d3eff7';
  const B3_64 = '64fe8b2a57d3eff7';
  const SPAN = 'e457b5a2e4d86bd1';
  const PARENT_SPAN = '05e3ac9a4f6e3b90';

  const cases: [
    kind: TraceIdKind,
    value: HeaderValue,
    expected: string | undefined,
    why: string,
  ][] = [
    ['x-b3-traceid', B3_128, B3_128, 'a 128-bit id is kept'],
    [
      'x-b3-traceid',
      B3_64,
      `0000000000000000${B3_64}`,
      'a 64-bit id is left-padded to 32 characters',
    ],
    ['x-b3-traceid', ` ${B3_128}\t`, B3_128, 'surrounding OWS is ignored'],
    ['x-b3-traceid', [B3_128, B3_64], B3_128, 'the first of repeated values wins'],
    ['x-b3-traceid', B3_128.toUpperCase(), undefined, 'upper-case hex is refused'],
    ['x-b3-traceid', '0'.repeat(32), undefined, 'an all-zero 128-bit id is refused'],
    ['x-b3-traceid', '0'.repeat(16), undefined, 'an all-zero 64-bit id is refused'],
    ['x-b3-traceid', B3_128.slice(1), undefined, '31 characters are refused'],
    ['x-b3-traceid', `${B3_64}0`, undefined, '17 characters are refused'],
    ['x-b3-traceid', '', undefined, 'an empty value is refused'],
    ['x-b3-traceid', undefined, undefined, 'no header has no id'],
    ['b3', `${B3_128}-${SPAN}`, B3_128, 'trace id and span id'],
    ['b3', `${B3_128}-${SPAN}-1`, B3_128, 'with a sampling state'],
    [
      'b3',
      `${B3_128}-${SPAN}-d-${PARENT_SPAN}`,
      B3_128,
      'with a sampling state and a parent span id',
    ],
    [
      'b3',
      `${B3_128}-${SPAN}-${PARENT_SPAN}`,
      B3_128,
      'with a parent span id and a deferred decision',
    ],
    ['b3', `${B3_64}-${SPAN}-0`, `0000000000000000${B3_64}`, 'a 64-bit trace id is left-padded'],
    ['b3', ` ${B3_128}-${SPAN}-1 `, B3_128, 'surrounding OWS is ignored'],
    ['b3', [`${B3_128}-${SPAN}`, `${B3_64}-${SPAN}`], B3_128, 'the first of repeated values wins'],
    ['b3', '0', undefined, 'a deny decision alone carries no trace id'],
    ['b3', '1', undefined, 'an accept decision alone carries no trace id'],
    ['b3', 'd', undefined, 'a debug decision alone carries no trace id'],
    ['b3', `${B3_128}-${SPAN}-x`, undefined, 'an unknown sampling state is refused'],
    ['b3', `${B3_128}-${SPAN}-1-`, undefined, 'a dangling dash is refused'],
    ['b3', `${B3_128}-${SPAN}-1-${PARENT_SPAN}-x`, undefined, 'extra fields are refused'],
    ['b3', `${B3_128}-${SPAN.slice(1)}`, undefined, 'a short span id is refused'],
    ['b3', `${B3_128}-${'0'.repeat(16)}-1`, undefined, 'an all-zero span id is refused'],
    ['b3', `${'0'.repeat(32)}-${SPAN}-1`, undefined, 'an all-zero trace id is refused'],
    ['b3', `${B3_128.toUpperCase()}-${SPAN}`, undefined, 'upper-case hex is refused'],
    ['b3', `${B3_128.slice(2)}-${SPAN}`, undefined, 'a 30-character trace id is refused'],
  ];
  for (const [kind, value, expected, why] of cases) {
    test(`${kind} ${JSON.stringify(value)} → ${expected}: ${why}`, () => {
      assert.equal(traceIdFrom(kind, value), expected);
    });
  }

  test('a 64-bit B3 trace and its W3C form give the same key', () => {
    assert.equal(
      traceIdFrom('x-b3-traceid', B3_64),
      traceIdFrom('traceparent', `00-0000000000000000${B3_64}-${PARENT}-01`),
    );
  });
});

describe('traceIdFrom for x-request-id and custom headers', () => {
  const uuid = '9f1c1f10-5dc6-43ba-b1e8-1d9bb1b08e5a';
  const cases: [value: HeaderValue, expected: string | undefined, why: string][] = [
    [uuid, uuid, 'a UUID is kept as sent'],
    [uuid.toUpperCase(), uuid.toUpperCase(), 'case is kept: the id is opaque'],
    [
      'Root=1-67891233-abcdef012345678912345678',
      'Root=1-67891233-abcdef012345678912345678',
      'any visible ASCII is allowed',
    ],
    [`\t ${uuid} `, uuid, 'surrounding OWS is ignored'],
    [[uuid, 'other'], uuid, 'the first of repeated values wins'],
    [
      'x'.repeat(MAX_OPAQUE_ID_LENGTH),
      'x'.repeat(MAX_OPAQUE_ID_LENGTH),
      '256 characters are allowed',
    ],
    ['x'.repeat(MAX_OPAQUE_ID_LENGTH + 1), undefined, '257 characters are refused, not cut'],
    ['x'.repeat(1 << 20), undefined, 'a 1 MB value is refused'],
    ['', undefined, 'an empty value is refused'],
    ['  ', undefined, 'a whitespace-only value is refused'],
    [
      'a b',
      undefined,
      'inner whitespace is refused (also what Node makes of repeated lines: "a, b")',
    ],
    ['a\u0000b', undefined, 'a control character is refused'],
    ['a\u007fb', undefined, 'DEL is refused'],
    ['é', undefined, 'non-ASCII is refused'],
    [[], undefined, 'no field lines have no id'],
    [undefined, undefined, 'no header has no id'],
  ];
  for (const kind of ['x-request-id', 'custom'] as const) {
    for (const [value, expected, why] of cases) {
      test(`${kind} ${JSON.stringify(value)?.slice(0, 60)}: ${why}`, () => {
        assert.equal(traceIdFrom(kind, value), expected);
      });
    }
  }
});

describe('traceIdFrom for grpc-trace-bin', () => {
  // OpenCensus BinaryEncoding: version 0, field 0 + trace id, field 1 + span id, field 2 + options.
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const bin = (trace: string, version = 0) =>
    Buffer.concat([
      Buffer.from([version, 0]),
      Buffer.from(trace, 'hex'),
      Buffer.from([1]),
      Buffer.from('00f067aa0ba902b7', 'hex'),
      Buffer.from([2, 1]),
    ]).toString('base64');
  const cases: [value: string | undefined, expected: string | undefined, what: string][] = [
    [bin(TRACE), TRACE, 'the trace id, the same key as the traceparent of the same trace'],
    [bin(TRACE).replace(/=+$/, ''), TRACE, 'base64 without padding, as gRPC metadata allows'],
    [` ${bin(TRACE)} `, TRACE, 'surrounding OWS is ignored'],
    [bin('0'.repeat(32)), undefined, 'an all-zero trace id is refused'],
    [bin(TRACE, 1), undefined, 'another version is refused'],
    [bin(TRACE).slice(0, 20), undefined, 'a cut value is refused'],
    ['not base64 at all, not at all, not at all', undefined, 'garbage is refused'],
    [undefined, undefined, 'no header has no id'],
  ];
  for (const [value, expected, what] of cases) {
    test(`${what}`, () => {
      assert.equal(traceIdFrom('grpc-trace-bin', value), expected);
    });
  }
});

describe('traceIdKindOf', () => {
  const cases: [name: string, kind: TraceIdKind][] = [
    ['traceparent', 'traceparent'],
    ['TraceParent', 'traceparent'],
    ['X-Request-Id', 'x-request-id'],
    ['x-b3-traceid', 'x-b3-traceid'],
    ['B3', 'b3'],
    ['grpc-trace-bin', 'grpc-trace-bin'],
    ['x-correlation-id', 'custom'],
    ['x-b3-spanid', 'custom'],
  ];
  for (const [name, kind] of cases) {
    test(`reads ${name} as ${kind}`, () => {
      assert.equal(traceIdKindOf(name), kind);
    });
  }
});

describe('generators', () => {
  const many = 2000;

  const starts: { header: string; fields: RegExp[]; key: string }[] = [
    {
      header: 'traceparent',
      fields: [/^traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-01$/],
      key: 'traceparent',
    },
    {
      header: 'x-b3-traceid',
      fields: [/^x-b3-traceid: [0-9a-f]{32}$/, /^x-b3-spanid: [0-9a-f]{16}$/, /^x-b3-sampled: 1$/],
      key: 'x-b3-traceid',
    },
    { header: 'b3', fields: [/^b3: [0-9a-f]{32}-[0-9a-f]{16}-1$/], key: 'b3' },
    {
      header: 'grpc-trace-bin',
      fields: [/^grpc-trace-bin: [A-Za-z0-9+/]{39}=$/],
      key: 'grpc-trace-bin',
    },
    { header: 'x-trace', fields: [/^x-trace: [0-9a-f-]{36}$/], key: 'x-trace' },
  ];
  for (const c of starts) {
    test(`a proxy starts a trace in ${c.header} with fields that carry a valid trace id`, () => {
      const fields = traceStartFields(c.header, RANDOM_IDS);
      const lines = Object.entries(fields).map(([k, v]) => `${k}: ${v}`);
      assert.equal(lines.length, c.fields.length);
      for (const [i, line] of lines.entries()) assert.match(line, c.fields[i]!);
      assert.ok(traceIdFrom(traceIdKindOf(c.key), fields[c.key]));
    });
  }

  test('newTraceparent gives valid, sampled version-00 headers with distinct ids', () => {
    const traceIds = new Set<string>();
    const parentIds = new Set<string>();
    for (let i = 0; i < many; i++) {
      const value = newTraceparent();
      assert.match(value, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const parsed = parseTraceparent(value);
      assert.ok(parsed);
      traceIds.add(parsed.traceId);
      parentIds.add(parsed.parentId);
    }
    assert.equal(traceIds.size, many);
    assert.equal(parentIds.size, many);
  });

  test('newRequestId gives distinct UUID v4 strings that key the memory as they are', () => {
    const ids = new Set<string>();
    for (let i = 0; i < many; i++) {
      const id = newRequestId();
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(traceIdFrom('x-request-id', id), id);
      ids.add(id);
    }
    assert.equal(ids.size, many);
  });

  test('newB3TraceId gives distinct 128-bit lower-hex ids that key the memory as they are', () => {
    const ids = new Set<string>();
    for (let i = 0; i < many; i++) {
      const id = newB3TraceId();
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.equal(traceIdFrom('x-b3-traceid', id), id);
      ids.add(id);
    }
    assert.equal(ids.size, many);
  });
});
