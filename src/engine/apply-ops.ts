/**
 * Applies decided header operations to a plain header map (lower-case names). The proxy applies
 * the same operations to raw header arrays on its hot path; this form serves `explain`, tests and
 * the conformance runner.
 */
import { removeBaggageKeys, setBaggageValue } from '../carriers/baggage.ts';
import type { HeaderOp } from './types.ts';

export function applyHeaderOps(
  headers: Map<string, string>,
  ops: readonly HeaderOp[],
  newTraceId: (header: string) => Record<string, string>,
): void {
  for (const op of ops) {
    switch (op.op) {
      case 'set':
        headers.set(op.name, op.value);
        break;
      case 'add': {
        const prev = headers.get(op.name);
        headers.set(op.name, prev === undefined ? op.value : `${prev}, ${op.value}`);
        break;
      }
      case 'remove':
        headers.delete(op.name);
        break;
      case 'set-baggage':
        headers.set('baggage', setBaggageValue(headers.get('baggage'), op.key, op.value));
        break;
      case 'remove-baggage': {
        const rest = removeBaggageKeys(headers.get('baggage'), op.keys);
        if (rest === undefined) headers.delete('baggage');
        else headers.set('baggage', rest);
        break;
      }
      case 'ensure-trace-id':
        // The engine asks only when the header is missing or invalid: replace it either way.
        for (const [k, v] of Object.entries(newTraceId(op.header))) headers.set(k, v);
        break;
    }
  }
}
