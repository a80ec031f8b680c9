/**
 * README's table of the errors the mesh produces is what users read when they meet one: every
 * code of src/core/engine/errors.ts has its row, with the HTTP status and the gRPC status the
 * proxies really answer with.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, type ErrorCode } from '../src/core/engine/errors.ts';
import { grpcStatusOf } from '../src/dataplane/grpc.ts';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** `| \`CODE\` | status | gRPC status | when |` rows, by code. */
function tableRows(): Map<string, { status: string; grpc: string }> {
  const rows = new Map<string, { status: string; grpc: string }>();
  for (const line of README.split('\n')) {
    const m = /^\| `([A-Z_]+)` +\| (\d+) +\| ([A-Z_]+) +\|/.exec(line);
    if (m) rows.set(m[1]!, { status: m[2]!, grpc: m[3]! });
  }
  return rows;
}

describe("README's error table", () => {
  const rows = tableRows();
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    it(`lists ${code} with its HTTP and gRPC status`, () => {
      assert.deepEqual(rows.get(code), {
        status: String(ERROR_CODES[code]),
        grpc: grpcStatusOf(code),
      });
    });
  }

  it('lists no code the proxies do not have', () => {
    assert.deepEqual(
      [...rows.keys()].filter((code) => !(code in ERROR_CODES)),
      [],
    );
  });
});
