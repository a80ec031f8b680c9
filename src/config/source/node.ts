/**
 * A YAML/JSON value with the source position of every node. Validation works on this tree so that
 * every error can say file:line:col, whichever parser produced it.
 */

/** 1-based line and column; `line: 0` means "no source position" (values built in code). */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

export const NO_POS: Pos = Object.freeze({ line: 0, col: 0 });

export type Node = MapNode | SeqNode | ScalarNode;

export interface MapNode {
  readonly kind: 'map';
  readonly pos: Pos;
  readonly entries: readonly MapEntry[];
}

export interface MapEntry {
  readonly key: string;
  readonly keyPos: Pos;
  readonly value: Node;
}

export interface SeqNode {
  readonly kind: 'seq';
  readonly pos: Pos;
  readonly items: readonly Node[];
}

export interface ScalarNode {
  readonly kind: 'scalar';
  readonly pos: Pos;
  readonly value: string | number | boolean | null;
}

/** Builds a position-less node tree from a plain value (JSON bodies, resources built in tests). */
export function nodeFromValue(value: unknown, pos: Pos = NO_POS): Node {
  if (Array.isArray(value)) {
    return { kind: 'seq', pos, items: value.map((item) => nodeFromValue(item, pos)) };
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([key, v]) => ({ key, keyPos: pos, value: nodeFromValue(v, pos) }));
    return { kind: 'map', pos, entries };
  }
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return { kind: 'scalar', pos, value };
  }
  return { kind: 'scalar', pos, value: String(value) };
}

/** Converts a node tree back into the plain value it stands for. */
export function valueFromNode(node: Node): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(valueFromNode);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const entry of node.entries) out[entry.key] = valueFromNode(entry.value);
      return out;
    }
  }
}

export function mapGet(node: Node | undefined, key: string): Node | undefined {
  if (node?.kind !== 'map') return undefined;
  return node.entries.find((e) => e.key === key)?.value;
}
