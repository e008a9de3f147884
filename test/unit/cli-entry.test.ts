import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { describe, it } from 'node:test';

const entry = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8');

describe('the content-trust entry (src/cli/main.ts → dist/cli.js)', () => {
  it('checks the version engines.node names', () => {
    const engines = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).engines.node as string;
    const needed = /var NEEDED = \[(\d+), (\d+), (\d+)\];/.exec(entry);
    assert.ok(needed, 'the entry declares NEEDED');
    assert.equal(engines, `>=${needed.slice(1).join('.')}`);
  });

  it('is a plain script any Node.js parses: no static import or export, no type syntax', () => {
    assert.doesNotMatch(entry, /^\s*(import|export)\s/m);
    assert.doesNotThrow(() => new Script(entry.replace(/^#!.*\n/, ''), { filename: 'main.ts' }), 'parses as a classic script');
  });
});
