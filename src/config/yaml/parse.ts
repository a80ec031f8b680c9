import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
} from 'yaml';
import type { Issue } from '../source/issues.ts';
import type { MapEntry, Node, Pos } from '../source/node.ts';

/** One document of a multi-document YAML stream, with where it came from. */
export interface SourceDocument {
  readonly file: string;
  /** 0-based index of the document in its file. */
  readonly index: number;
  readonly node: Node;
  /**
   * The document's own text, from the first line of its content, and that line's number: enough to
   * store an applied document and parse it again later with the same positions.
   */
  readonly text: string;
  readonly line: number;
}

export interface ParsedYaml {
  readonly documents: readonly SourceDocument[];
  readonly issues: readonly Issue[];
}

/**
 * Parses a multi-document YAML (or JSON) text into position-carrying node trees. Pure: the caller
 * reads files. Empty documents (a trailing `---`, comments only) are skipped, as kubectl does.
 */
export function parseYamlDocuments(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const issues: Issue[] = [];
  const documents: SourceDocument[] = [];
  const parsed = parseAllDocuments(text, {
    lineCounter,
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  const docs = Array.isArray(parsed) ? parsed : [];
  if (!Array.isArray(parsed)) {
    // An empty stream parses to an EmptyStream object: nothing to load, and nothing wrong.
    return { documents, issues };
  }
  const at = (offset: number | undefined): Pos => {
    if (offset === undefined) return { line: 1, col: 1 };
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  docs.forEach((doc, index) => {
    for (const problem of doc.errors) {
      const pos = at(problem.pos[0]);
      issues.push({
        file,
        line: pos.line,
        col: pos.col,
        path: '',
        message: `malformed YAML: ${firstLine(problem.message)}`,
        severity: 'error',
      });
    }
    if (doc.errors.length > 0) return;
    if (doc.contents === null) return;
    try {
      const node = convert(doc, doc.contents, at, file, issues);
      if (node.kind === 'scalar' && node.value === null) return;
      const start = doc.contents.range?.[0] ?? 0;
      const lineStart = text.lastIndexOf('\n', start - 1) + 1;
      const end = doc.contents.range?.[2] ?? text.length;
      documents.push({ file, index, node, text: text.slice(lineStart, end), line: at(start).line });
    } catch (error) {
      const pos = at(doc.contents.range?.[0]);
      issues.push({
        file,
        line: pos.line,
        col: pos.col,
        path: '',
        message: `malformed YAML: ${(error as Error).message}`,
        severity: 'error',
      });
    }
  });
  return { documents, issues };
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? message;
  // The yaml library appends " at line N, column M"; we print the position ourselves.
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

function convert(
  doc: Document,
  value: unknown,
  at: (offset: number | undefined) => Pos,
  file: string,
  issues: Issue[],
  depth = 0,
): Node {
  if (depth > 200) throw new Error('document nests deeper than 200 levels');
  if (isAlias(value)) {
    const target = (value as Alias).resolve(doc);
    return convert(doc, target, at, file, issues, depth + 1);
  }
  if (isMap(value)) {
    const entries: MapEntry[] = [];
    const merged: MapEntry[] = [];
    for (const pair of value.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key;
      if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        // A merge key (`<<: *base`): its entries come after the map's own keys, which win, and an
        // earlier merged map wins over a later one (YAML merge key spec).
        const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
        for (const source of sources) {
          const node = convert(doc, source, at, file, issues, depth + 1);
          if (node.kind === 'map') merged.push(...node.entries);
        }
        continue;
      }
      const keyPos = at(isScalar(keyNode) ? keyNode.range?.[0] : value.range?.[0]);
      if (!isScalar(keyNode)) {
        issues.push({
          file,
          line: keyPos.line,
          col: keyPos.col,
          path: '',
          message: 'malformed YAML: map keys must be plain scalars',
          severity: 'error',
        });
        continue;
      }
      const key = String(keyNode.value);
      const child =
        pair.value === null || pair.value === undefined
          ? ({ kind: 'scalar', pos: keyPos, value: null } as const)
          : convert(doc, pair.value, at, file, issues, depth + 1);
      entries.push({ key, keyPos, value: child });
    }
    for (const entry of merged) {
      if (!entries.some((e) => e.key === entry.key)) entries.push(entry);
    }
    return { kind: 'map', pos: at(value.range?.[0]), entries };
  }
  if (isSeq(value)) {
    const items = value.items.map((item) =>
      item === null
        ? ({ kind: 'scalar', pos: at(value.range?.[0]), value: null } as const)
        : convert(doc, item, at, file, issues, depth + 1),
    );
    return { kind: 'seq', pos: at(value.range?.[0]), items };
  }
  if (isScalar(value)) {
    const raw = value.value;
    const pos = at(value.range?.[0]);
    if (raw === null || typeof raw === 'string' || typeof raw === 'boolean') {
      return { kind: 'scalar', pos, value: raw };
    }
    if (typeof raw === 'number') return { kind: 'scalar', pos, value: raw };
    if (typeof raw === 'bigint') return { kind: 'scalar', pos, value: Number(raw) };
    return { kind: 'scalar', pos, value: String(raw) };
  }
  return { kind: 'scalar', pos: { line: 1, col: 1 }, value: null };
}
