/**
 * Verify what gets deployed: the images of deployment files (the `manifests`
 * input, `content-trust verify --manifests`) read, verified once each with
 * the other images, each result and failure told where it is named, and,
 * with `pin`, each verified reference rewritten in place to
 * `name:tag@sha256:<digest>`. Both front ends call this; it knows nothing of
 * GitHub (the action's report shows the places as annotations).
 *
 * Pin edits only the text of each image's value (its quoting kept), and
 * writes only when every image verified: each file's new text is made first,
 * every file is checked unchanged since it was read, all are written to
 * temporary files beside them, and only then renamed over them.
 */
import { closeSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { InputError, InternalError, MultiError, type ContentTrustError, type Failure, type Place } from '../errors.ts';
import { parseReference, type ImageRef } from '../registry/reference.ts';
import type { ImageResult } from '../notary/env.ts';
import { readUserFile } from '../util/file.ts';
import { findDeployFiles, type FoundFile, type PatternLabel } from './files.ts';
import { DEPLOY_YAML_LIMITS, parseDeployFile, type DeployFile, type DeployImage } from './images.ts';

export type { PatternLabel } from './files.ts';

export type ReadDeployFile = DeployFile & { full: string };

/** Reads and parses every file the patterns name; every problem of every file is reported at once. */
export async function readDeployFiles(patterns: readonly string[], baseDir: string, label: PatternLabel): Promise<ReadDeployFile[]> {
  const files: ReadDeployFile[] = [];
  for (const found of findDeployFiles(patterns, baseDir, label)) files.push({ ...(await parseDeployFile(readDeployText(found, label), found.path)), full: found.full });
  const failures: Failure[] = files.flatMap((f) => f.problems.map((p) => ({ subject: f.path, error: p.error, places: [{ file: f.path, line: p.line }] })));
  if (failures.length > 0) throw new MultiError(failures);
  return files;
}

function readDeployText(found: FoundFile, label: PatternLabel): string {
  return readUserFile(found.full, { name: `${label.name} file`, fix: label.fix }, { maxBytes: DEPLOY_YAML_LIMITS.maxBytes, keepBom: true });
}

/** One image verified once however it is spelt: its repository, tag and pin. */
function identity(ref: ImageRef): string {
  return `${ref.gun}:${ref.tag}@${ref.pin ?? ''}`;
}

/** The identity of an image given as text (an input's, a result's); undefined when it does not parse. */
function identityOf(image: string): string | undefined {
  try {
    return identity(parseReference(image));
  } catch {
    return undefined; // reported when the images are parsed for verify
  }
}

interface DeployImages {
  /** Images to verify besides `known`: the first spelling of each, in file order. */
  added: string[];
  /** Where each image verified (as given to verify) is named. */
  places: Map<string, Place[]>;
}

/** The images of `files` not among `known` (the images and dockerfile inputs'), and where every one is named. */
export function collectImages(files: readonly DeployFile[], known: readonly string[]): DeployImages {
  const byIdentity = new Map<string, string>();
  for (const k of known) {
    const id = identityOf(k);
    if (id !== undefined && !byIdentity.has(id)) byIdentity.set(id, k.trim());
  }
  const added: string[] = [];
  const places = new Map<string, Place[]>();
  for (const file of files) {
    for (const found of file.images) {
      const id = identity(found.ref);
      let image = byIdentity.get(id);
      if (image === undefined) {
        image = found.image;
        byIdentity.set(id, image);
        added.push(image);
      }
      const list = places.get(image) ?? [];
      if (!list.some((p) => p.file === file.path && p.line === found.line)) list.push({ file: file.path, line: found.line });
      places.set(image, list);
    }
  }
  return { added, places };
}

/** A verify failure with the places each failed image is named at (the errors themselves unchanged). */
export function locateFailures(error: ContentTrustError, places: ReadonlyMap<string, readonly Place[]>): ContentTrustError {
  if (!(error instanceof MultiError)) return error;
  if (!error.failures.some((f) => places.has(f.subject))) return error;
  return new MultiError(error.failures.map((f) => (places.has(f.subject) ? { ...f, places: [...(f.places ?? []), ...places.get(f.subject)!] } : f)));
}

/** Results with `sources`: `file:line` for each place their image is named. */
export function withSources(results: readonly ImageResult[], places: ReadonlyMap<string, readonly Place[]>): ImageResult[] {
  return results.map((r) => {
    const at = places.get(r.image);
    return at ? { ...r, sources: at.map((p) => (p.line === undefined ? p.file : `${p.file}:${p.line}`)) } : r;
  });
}

interface PinPlan {
  file: ReadDeployFile;
  /** The new text: the old with each verified reference pinned. */
  text: string;
  /** The images rewritten. */
  pinned: { found: DeployImage; value: string }[];
}

interface PinOutcome {
  /** Files with something to pin (the others are left untouched). */
  plans: PinPlan[];
  /** Images not verified (a policy's allow-unsigned left them out): not pinned. */
  unverified: DeployImage[];
}

/** The rewrites pin would make, from the verify results; nothing is written. */
export function planPins(files: readonly ReadDeployFile[], results: readonly ImageResult[]): PinOutcome {
  const digests = new Map<string, string>();
  for (const r of results) {
    const id = identityOf(r.image);
    if (id !== undefined) digests.set(id, r.digest);
  }
  const failures: Failure[] = [];
  const plans: PinPlan[] = [];
  const unverified: DeployImage[] = [];
  for (const file of files) {
    const edits = new Map<number, { start: number; end: number; text: string }>();
    const pinned: PinPlan['pinned'] = [];
    for (const found of file.images) {
      const digest = digests.get(identity(found.ref));
      if (digest === undefined) {
        unverified.push(found);
        continue;
      }
      if (found.ref.pin === digest) continue; // pinned to the trusted digest already
      // Verify refuses a reference pinned to another digest (PIN_MISMATCH) before pin runs.
      if (found.ref.pin !== undefined) throw new InternalError('INTERNAL', `${file.path} line ${found.line}: ${found.image} pins another digest than the one verified: please report this`);
      const value = `${found.prefix}${nameAsWritten(found.image)}:${found.ref.tag}@${digest}`;
      const source = found.source;
      const written = source ? file.text.slice(source.start, source.end) : undefined;
      const quote = source?.style === 'single' ? "'" : source?.style === 'double' ? '"' : '';
      if (!source || source.style === 'block' || written !== `${quote}${found.prefix}${found.image}${quote}`) {
        const error = new InputError(
          'DEPLOY_PIN_UNSUPPORTED',
          `${file.path}: ${found.what}: pin cannot rewrite image ${JSON.stringify(found.image)} as it is written (${source?.style === 'block' ? 'a block scalar' : 'over several lines, with escapes or spaces, or through an alias'}): write it on one line, plain or quoted, as the image alone`,
        );
        failures.push({ subject: file.path, error, places: [{ file: file.path, line: found.line }] });
        continue;
      }
      // Two names for one written value (an alias, a merge key) make one edit.
      if (!edits.has(source.start)) edits.set(source.start, { start: source.start, end: source.end, text: `${quote}${value}${quote}` });
      pinned.push({ found, value });
    }
    if (edits.size === 0) continue;
    let text = file.text;
    for (const e of [...edits.values()].sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
    plans.push({ file, text, pinned });
  }
  if (failures.length > 0) throw new MultiError(failures);
  return { plans, unverified };
}

/** The reference without its tag and digest, as written (`nginx`, `registry:5000/app`). */
function nameAsWritten(image: string): string {
  const at = image.indexOf('@');
  const name = at < 0 ? image : image.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/**
 * Writes every plan or none: each file must still hold the text read (else
 * DEPLOY_FILE_CHANGED), each new text goes to a temporary file beside it
 * (same mode, synced), and only when all are written are they renamed over
 * the files. Returns the paths written, relative to the workspace.
 */
export function writePins(plans: readonly PinPlan[], label: PatternLabel): string[] {
  const staged: { tmp: string; target: string; path: string }[] = [];
  try {
    for (const { file, text } of plans) {
      if (readDeployText(file, label) !== file.text) {
        throw new InputError('DEPLOY_FILE_CHANGED', `${label.name} file ${JSON.stringify(file.path)} changed while it was verified: nothing was pinned; run again`);
      }
      // A link inside the workspace (checked when found) is followed: its target is rewritten, the link kept.
      const target = realpathSync(file.full);
      const tmp = join(dirname(target), `.${basename(target)}.pin-${randomBytes(6).toString('hex')}`);
      writeNew(tmp, text, statSync(target).mode & 0o7777, file.path, label);
      staged.push({ tmp, target, path: file.path });
    }
  } catch (e) {
    for (const s of staged) unlinkQuietly(s.tmp);
    throw e;
  }
  const written: string[] = [];
  for (const [i, s] of staged.entries()) {
    try {
      renameSync(s.tmp, s.target);
      written.push(s.path);
    } catch (e) {
      for (const rest of staged.slice(i)) unlinkQuietly(rest.tmp);
      const done = written.length > 0 ? `; already pinned: ${written.join(', ')}` : '';
      throw new InputError('FILE_UNWRITABLE', `${label.name} file ${JSON.stringify(s.path)} cannot be replaced (${(e as NodeJS.ErrnoException).code ?? 'error'})${done}: make it writable and run again`, { cause: e });
    }
  }
  return written;
}

function writeNew(tmp: string, text: string, mode: number, path: string, label: PatternLabel): void {
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (e) {
    throw new InputError('FILE_UNWRITABLE', `${label.name} file ${JSON.stringify(path)}: its directory is not writable (${(e as NodeJS.ErrnoException).code ?? 'error'}): nothing was pinned; make it writable`, { cause: e });
  }
  try {
    writeSync(fd, Buffer.from(text, 'utf8'));
    fsyncSync(fd);
  } catch (e) {
    unlinkQuietly(tmp);
    throw new InputError('FILE_UNWRITABLE', `${label.name} file ${JSON.stringify(path)} cannot be written (${(e as NodeJS.ErrnoException).code ?? 'error'}): nothing was pinned`, { cause: e });
  } finally {
    closeSync(fd);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
