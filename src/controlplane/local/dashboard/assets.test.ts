import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Assets, CLIENT_DIR } from './assets.ts';

const modules = readdirSync(CLIENT_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

describe("the page's files", () => {
  test('every module the browser will load imports only files of the page itself', () => {
    assert.ok(modules.includes('app.ts') && modules.length > 3);
    for (const name of modules) {
      const text = readFileSync(`${CLIENT_DIR}${name}`, 'utf8');
      for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
        if (m[1]) continue; // type-only: gone once types are stripped
        assert.match(m[2]!, /^\.\/[a-z-]+\.ts$/, `${name} imports ${m[2]}`);
        assert.ok(existsSync(`${CLIENT_DIR}${m[2]!.slice(2)}`), `${name} imports ${m[2]}`);
      }
    }
  });

  test('every module strips to JavaScript the browser can parse', () => {
    const assets = new Assets();
    for (const name of modules) {
      const js = assets.get(name)!.body.toString();
      // A syntax check without running it: the Function constructor parses non-module code only,
      // so imports and exports are taken out first.
      const body = js.replace(/^\s*import[^;]*;/gm, '').replace(/^export /gm, '');
      assert.doesNotThrow(() => new Function(body), name);
    }
  });
});
