import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readUserFile } from '../../src/util/file.ts';
import { InputError } from '../../src/errors.ts';
import { makeBadFiles } from './helpers/bad-files.ts';

const LABEL = { name: 'input test-file', fix: 'give the path of a test file' };

describe('readUserFile', () => {
  it('reads a text file, relative paths from baseDir, UTF-8 decoded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'read-user-file-'));
    writeFileSync(join(dir, 'list'), 'alpine:3\nnginx:1 # café\n');
    assert.equal(readUserFile(join(dir, 'list'), LABEL, { maxBytes: 100 }), 'alpine:3\nnginx:1 # café\n');
    assert.equal(readUserFile('list', LABEL, { maxBytes: 100, baseDir: dir }), 'alpine:3\nnginx:1 # café\n');
    writeFileSync(join(dir, 'exact'), 'x'.repeat(100));
    assert.equal(readUserFile(join(dir, 'exact'), LABEL, { maxBytes: 100 }).length, 100, 'exactly the bound is allowed');
  });

  it('each bad path gets its own code, an InputError naming the label and the path, and the fix', () => {
    for (const bad of makeBadFiles(1024)) {
      assert.throws(
        () => readUserFile(bad.path, LABEL, { maxBytes: 1024 }),
        (e: Error) => {
          assert.ok(e instanceof InputError, `${bad.kind}: ${e.message}`);
          assert.equal(e.code, bad.code, `${bad.kind}: ${e.message}`);
          assert.ok(e.message.startsWith(`input test-file ${JSON.stringify(bad.path)} `), `${bad.kind}: ${e.message}`);
          assert.ok(e.message.endsWith(': give the path of a test file'), `${bad.kind}: ${e.message}`);
          assert.doesNotMatch(e.message, /\b(ENOENT|EISDIR|EIO|ENOTDIR)\b: /, `${bad.kind}: no raw Node error text`);
          return true;
        },
      );
    }
  });

  it('an empty or blank path is FILE_NOT_FOUND saying it names no file', () => {
    for (const p of ['', '   '])
      assert.throws(
        () => readUserFile(p, LABEL, { maxBytes: 10 }),
        (e: InputError) => e.code === 'FILE_NOT_FOUND' && /^input test-file is empty: it names no file/.test(e.message),
      );
  });

  it('a relative path is shown as given and as resolved', () => {
    assert.throws(
      () => readUserFile('no/such', LABEL, { maxBytes: 10, baseDir: '/work-nowhere' }),
      (e: InputError) => e.message.startsWith('input test-file "no/such" (/work-nowhere/no/such) does not exist'),
    );
  });

  it('a hostile name stays on one line in the message', () => {
    assert.throws(
      () => readUserFile('/nowhere/a\nb::error::x', LABEL, { maxBytes: 10 }),
      (e: InputError) => !e.message.includes('\n'),
    );
  });
});
