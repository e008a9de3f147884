/**
 * Paths that are no readable text file, each kind once, for the sweeps over
 * every input, flag and reader that takes a file (tests run as root, where
 * chmod 000 stops nothing: these fail for root too), with the code each
 * must get.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorCode } from '../../../src/errors.ts';

export interface BadFile {
  kind: string;
  path: string;
  code: ErrorCode;
}

/** Makes the bad paths under a fresh directory; `tooLarge` is the reader's bound in bytes. */
export function makeBadFiles(tooLarge: number): BadFile[] {
  const dir = mkdtempSync(join(tmpdir(), 'bad-files-'));
  const path = (name: string) => join(dir, name);
  mkdirSync(path('a-directory'));
  symlinkSync(path('nothing-there'), path('dangling'));
  // No writer ever opens it: a reader that opened it blocking would hang the test.
  execFileSync('mkfifo', [path('fifo')]);
  writeFileSync(path('binary'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0xff, 0xfe, 0x00, 0x01, 0xc3, 0x28]));
  writeFileSync(path('nul'), 'alpine:3\0\n');
  writeFileSync(path('huge'), '');
  truncateSync(path('huge'), tooLarge + 1);
  writeFileSync(path('a-file'), 'not a directory\n');
  return [
    { kind: 'a directory', path: path('a-directory'), code: 'FILE_IS_DIRECTORY' },
    { kind: 'a missing path', path: path('missing'), code: 'FILE_NOT_FOUND' },
    { kind: 'a path under a file', path: join(path('a-file'), 'x'), code: 'FILE_NOT_FOUND' },
    { kind: 'a dangling symlink', path: path('dangling'), code: 'FILE_NOT_FOUND' },
    { kind: 'a FIFO with no writer', path: path('fifo'), code: 'FILE_UNREADABLE' },
    { kind: 'a device', path: '/dev/zero', code: 'FILE_UNREADABLE' },
    { kind: 'a /proc file that fails to read', path: '/proc/self/mem', code: 'FILE_UNREADABLE' },
    { kind: 'binary garbage', path: path('binary'), code: 'FILE_NOT_TEXT' },
    { kind: 'text with a NUL byte', path: path('nul'), code: 'FILE_NOT_TEXT' },
    { kind: 'a file over the bound', path: path('huge'), code: 'FILE_TOO_LARGE' },
  ];
}

/** A directory holding a plain file, for inputs that want a directory. */
export function makeFileNotDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bad-dirs-'));
  writeFileSync(join(dir, 'file'), 'x');
  return join(dir, 'file');
}
