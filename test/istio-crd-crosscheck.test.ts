/**
 * lanes' validation of Istio kinds against Istio's own OpenAPI schemas (crds.gen.yaml):
 * everything lanes accepts passes the CRD schema, and every mutation of a valid document that the
 * CRD schema rejects, lanes rejects too. (lanes may be stricter: Istio's webhook checks more than
 * the schema, and fields lanes does not support are errors.)
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { storyCopies } from '../scripts/story.ts';
import { loadResources } from '../src/config/load/resources.ts';
import { formatIssue } from '../src/config/source/issues.ts';
import { CrdValidator } from './support/crd-ajv.ts';
import {
  DEFAULT_CRD_FILE,
  formatFieldErrors,
  loadCrdSchemas,
  validateAgainstCrd,
} from './support/crd-schema.ts';

/** How the structural checker words a failed CEL rule (crd-schema.ts, CEL_RULES). */
const CEL_ERROR = /evaluating rule/;

import { testDataPath } from './support/test-data.ts';

const ISTIO_KINDS = new Set(['Gateway', 'VirtualService', 'DestinationRule']);

function istioDocs(
  dir: URL,
  files: readonly string[],
): { file: string; doc: Record<string, unknown> }[] {
  const out: { file: string; doc: Record<string, unknown> }[] = [];
  for (const file of files) {
    for (const d of parseAllDocuments(readFileSync(new URL(file, dir), 'utf8'))) {
      const doc = d.toJS() as Record<string, unknown> | null;
      if (doc && typeof doc.kind === 'string' && ISTIO_KINDS.has(doc.kind) && !('_err' in doc))
        out.push({ file, doc });
    }
  }
  return out;
}

function acceptedByLanes(doc: unknown): { ok: boolean; errors: string[] } {
  const result = loadResources([{ file: 'doc.json', text: JSON.stringify(doc) }]);
  return {
    ok: result.ok,
    errors: result.issues.filter((i) => i.severity === 'error').map(formatIssue),
  };
}

const schemas = loadCrdSchemas();
const istioData = pathToFileURL(testDataPath('istio/'));
const bookinfoDir = new URL('bookinfo/', istioData);
const yamlIn = (dir: URL) => readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const storyDirs = storyCopies().flatMap((c) => ('dir' in c ? [pathToFileURL(`${c.dir}/`)] : []));
const corpus = [
  ...storyDirs.flatMap((dir) => istioDocs(dir, yamlIn(dir))),
  ...istioDocs(bookinfoDir, yamlIn(bookinfoDir)),
  ...istioDocs(istioData, ['destinationrule-valid.yaml']),
];

describe('Istio kinds against the CRD schemas', () => {
  it('the corpus has the story, Bookinfo and Istio test documents', () => {
    assert.ok(corpus.length >= 30, `${corpus.length} documents`);
  });

  for (const { file, doc } of corpus) {
    const name = `${file} ${String(doc.kind)} ${String((doc.metadata as { name?: string }).name)}`;
    it(`${name}: accepted by lanes is valid for the CRD schema`, (t) => {
      const ours = acceptedByLanes(doc);
      // lanes may reject what it does not support (e.g. tls SIMPLE), never the reverse; the
      // skip says so in the report, with why.
      if (!ours.ok) return t.skip(`lanes rejects it: ${ours.errors[0] ?? 'no error text'}`);
      assert.deepEqual(formatFieldErrors(validateAgainstCrd(schemas, doc)), []);
    });
  }

  it('Ajv and the hand-written structural checker agree on every mutation but CEL rules', (t) => {
    const ajv = CrdValidator.fromFile(DEFAULT_CRD_FILE);
    let compared = 0;
    const disagreements: string[] = [];
    for (const { file, doc } of corpus) {
      for (const [path, mutant] of [['', doc] as [string, unknown], ...mutate(doc)]) {
        compared++;
        const ours = validateAgainstCrd(schemas, mutant);
        const theirs = ajv.validate(mutant);
        // CEL rules (x-kubernetes-validations) are checked by the hand-written one only.
        const structural = ours.filter((e) => !CEL_ERROR.test(e.message));
        if ((structural.length === 0) !== (theirs.length === 0)) {
          disagreements.push(
            `${file} ${path}: structural checker ${JSON.stringify(formatFieldErrors(structural))}, Ajv ${JSON.stringify(theirs)}`,
          );
        }
      }
    }
    assert.deepEqual(
      disagreements.slice(0, 10),
      [],
      `${disagreements.length} of ${compared} differ`,
    );
    t.diagnostic(`${compared} documents: Ajv and the structural checker agree on every one`);
  });

  it('every mutation the CRD schema rejects is rejected by lanes too', (t) => {
    let mutations = 0;
    let crdRejected = 0;
    let lanesStricter = 0;
    const escapes: string[] = [];
    for (const { file, doc } of corpus) {
      if (!acceptedByLanes(doc).ok) continue;
      for (const [path, mutant] of mutate(doc)) {
        mutations++;
        const crd = validateAgainstCrd(schemas, mutant);
        const ours = acceptedByLanes(mutant);
        if (crd.length > 0) {
          crdRejected++;
          if (ours.ok) escapes.push(`${file} ${path}: ${formatFieldErrors(crd).join('; ')}`);
        } else if (!ours.ok) {
          lanesStricter++;
        }
      }
    }
    assert.deepEqual(
      escapes,
      [],
      `lanes accepted ${escapes.length} documents the CRD schema rejects`,
    );
    assert.ok(
      mutations > 1000 && crdRejected > 500,
      `${mutations} mutations, ${crdRejected} rejected by the CRD`,
    );
    t.diagnostic(
      `${mutations} mutations: ${crdRejected} rejected by the CRD schema (all by lanes too), ${lanesStricter} rejected by lanes only`,
    );
  });
});

/** Every leaf replaced by values of other types, and an unknown key added to every object. */
function* mutate(doc: Record<string, unknown>): Generator<[string, unknown]> {
  const replacements: unknown[] = [42, -1, 'x', '', true, [], {}, [1], { zz: 1 }];
  function* walk(value: unknown, path: (string | number)[]): Generator<(string | number)[]> {
    yield path;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) yield* walk(value[i], [...path, i]);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) yield* walk(v, [...path, k]);
    }
  }
  for (const path of walk(doc, [])) {
    if (path.length < 2 || path[0] !== 'spec') continue;
    const original = get(doc, path);
    for (const r of replacements) {
      if (JSON.stringify(r) === JSON.stringify(original)) continue;
      yield [`${path.join('.')}=${JSON.stringify(r)}`, set(doc, path, r)];
    }
    if (original !== null && typeof original === 'object' && !Array.isArray(original)) {
      yield [
        `${path.join('.')}+unknownField`,
        set(doc, path, { ...(original as object), unknownField: 1 }),
      ];
    }
  }
}

function get(value: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);
}

function set(doc: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(doc)) return doc.map((v, i) => (i === head ? set(v, rest, replacement) : v));
  const obj = doc as Record<string, unknown>;
  return { ...obj, [head as string]: set(obj[head as string], rest, replacement) };
}
