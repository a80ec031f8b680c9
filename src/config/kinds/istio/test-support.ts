/**
 * Helpers for the Istio kind tests: build a document from a spec, parse it, and state where an
 * issue must point by quoting the text it must point at.
 */
import assert from 'node:assert/strict';
import { readTestData } from '../../../../test/support/test-data.ts';
import type { Issue } from '../../source/issues.ts';
import { parseYamlDocuments, type SourceDocument } from '../../yaml/parse.ts';
import { type ParsedResource, parseResource } from '../document.ts';

export type IstioKind = 'Gateway' | 'VirtualService' | 'DestinationRule';

/** A one-document file: `spec` lines are indented under `spec:`. */
export function doc(kind: IstioKind, spec: readonly string[], name = 'x'): string {
  return [
    'apiVersion: networking.istio.io/v1',
    `kind: ${kind}`,
    'metadata:',
    `  name: ${name}`,
    'spec:',
    ...spec.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

export function parseText(text: string, file = 'test.yaml'): ParsedResource[] {
  const { documents, issues } = parseYamlDocuments(text, file);
  assert.deepEqual(issues, [], 'the YAML itself parses');
  return documents.map((d) => parseResource(d));
}

export function parseOne(text: string): ParsedResource {
  const [parsed] = parseText(text);
  assert.ok(parsed, 'one document');
  return parsed;
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
export function positionOf(text: string, needle: string): { line: number; col: number } {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${JSON.stringify(needle)} occurs in the document`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: (before[before.length - 1] ?? '').length + 1 };
}

export interface Expected {
  readonly path: string;
  readonly message: string;
  /** Text the issue's line:col must point at (its first occurrence in the document). */
  readonly at?: string;
  readonly severity?: Issue['severity'];
}

/** Finds the issue with that path and message, and checks its severity and position. */
export function assertIssue(text: string, issues: readonly Issue[], want: Expected): Issue {
  const severity = want.severity ?? 'error';
  const found = issues.find(
    (i) => i.path === want.path && i.message === want.message && i.severity === severity,
  );
  assert.ok(
    found,
    `expected ${severity} at ${want.path}: ${want.message}\nissues:\n${issues.map((i) => `  ${i.severity} ${i.path}: ${i.message}`).join('\n')}`,
  );
  if (want.at !== undefined) {
    const pos = positionOf(text, want.at);
    assert.deepEqual({ line: found.line, col: found.col }, pos, `position of ${want.path}`);
  }
  return found;
}

export function errors(issues: readonly Issue[]): Issue[] {
  return issues.filter((i) => i.severity === 'error');
}

/** Reads a file of the vendored test data (test/data/), with its base name for positions. */
export function testDataFile(relative: string): { text: string; file: string } {
  return { text: readTestData(relative), file: relative.split('/').pop() ?? relative };
}

/** Removes the `_err` annotation from a test-data document, returning it (Istio's CRD tests). */
export function stripErr(d: SourceDocument): { doc: SourceDocument; err: string | undefined } {
  const root = d.node;
  if (root.kind !== 'map') return { doc: d, err: undefined };
  const errEntry = root.entries.find((e) => e.key === '_err');
  const err =
    errEntry?.value.kind === 'scalar' && typeof errEntry.value.value === 'string'
      ? errEntry.value.value
      : undefined;
  const node = { ...root, entries: root.entries.filter((e) => e.key !== '_err') };
  return { doc: { ...d, node }, err };
}
