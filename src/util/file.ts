/**
 * Reading a file the user named (an input, a flag, a key in the trust
 * directory): bounded, text only, and every way it can fail is an
 * InputError with its own code whose message names the file the way the
 * caller does (`input ca-cert`, `--tlscacert`) and says what to do.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InputError, type InputErrorCode } from '../errors.ts';

/** How messages name the file and what they tell the user to do; the caller knows. */
interface FileLabel {
  /** e.g. "input images-file", "--tlscacert", "the key file" */
  name: string;
  /** e.g. "give the path of a file with one image reference per line" */
  fix: string;
}

export interface ReadOptions {
  /** Refuse larger files. */
  maxBytes: number;
  /** Relative paths are taken from here (the workspace); default: the working directory. */
  baseDir?: string;
  /** Keep a UTF-8 byte order mark in the text (a file rewritten in place keeps its bytes). Default: dropped. */
  keepBom?: boolean;
}

/** Quotes a path for a message: JSON escapes keep a hostile name on one line. */
const quote = (s: string) => JSON.stringify(s);

export function readUserFile(path: string, label: FileLabel, options: ReadOptions): string {
  if (!path.trim()) throw fileError('FILE_NOT_FOUND', label, 'is empty: it names no file');
  const full = isAbsolute(path) ? path : resolve(options.baseDir ?? process.cwd(), path);
  const shown = full === path ? quote(path) : `${quote(path)} (${full})`;
  const fail = (code: InputErrorCode, why: string, cause?: unknown) => fileError(code, label, `${shown} ${why}`, cause);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever; the fstat below refuses it.
    fd = openSync(full, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw openFailure(full, e, fail);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw fail('FILE_IS_DIRECTORY', 'is a directory, not a file');
    if (!stats.isFile()) throw fail('FILE_UNREADABLE', `is ${kindOf(stats)}, not a regular file`);
    const bytes = readBounded(fd, options.maxBytes, fail);
    return decodeText(bytes, fail, options.keepBom ? UTF8_WITH_BOM : UTF8);
  } finally {
    closeSync(fd);
  }
}

function fileError(code: InputErrorCode, label: FileLabel, what: string, cause?: unknown): InputError {
  return new InputError(code, `${label.name} ${what}: ${label.fix}`, cause === undefined ? undefined : { cause });
}

type Fail = (code: InputErrorCode, why: string, cause?: unknown) => InputError;

function openFailure(full: string, e: unknown, fail: Fail): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return isSymlink(full) ? fail('FILE_NOT_FOUND', 'is a symbolic link to nothing (its target does not exist)', e) : fail('FILE_NOT_FOUND', 'does not exist', e);
  }
  if (code === 'EACCES' || code === 'EPERM') return fail('FILE_UNREADABLE', 'cannot be read: permission denied', e);
  if (code === 'ELOOP') return fail('FILE_UNREADABLE', 'cannot be read: too many levels of symbolic links', e);
  return fail('FILE_UNREADABLE', `cannot be opened (${code ?? 'unknown error'})`, e);
}

function isSymlink(full: string): boolean {
  try {
    return lstatSync(full).isSymbolicLink();
  } catch {
    return false;
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Reads at most maxBytes; one more byte proves the file too large. The size
 * fstat reports is not trusted: /proc files say 0 and files grow.
 */
function readBounded(fd: number, maxBytes: number, fail: Fail): Buffer {
  const buffer = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (e) {
      throw fail('FILE_UNREADABLE', `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'read error'})`, e);
    }
    if (n === 0) return Buffer.concat(chunks, total);
    total += n;
    if (total > maxBytes) throw fail('FILE_TOO_LARGE', `is larger than the ${maxBytes} bytes allowed`);
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8_WITH_BOM = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeText(bytes: Buffer, fail: Fail, decoder: typeof UTF8): string {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (e) {
    throw fail('FILE_NOT_TEXT', 'is not UTF-8 text (a binary file?)', e);
  }
  if (text.includes('\0')) throw fail('FILE_NOT_TEXT', 'holds NUL bytes: it is not a text file (a binary file?)');
  return text;
}
