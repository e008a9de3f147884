/**
 * sign's record of what a build pushed, as both front ends take it (the
 * action's digest and metadata inputs, the CLI's --digest and --metadata):
 * read and checked before any request, one set of rules for both.
 */
import { InputError } from './errors.ts';
import { builtImages, untaggedNotice, type BuiltImages } from './registry/build-metadata.ts';
import { readUserFile } from './util/file.ts';

/** Bounds on the metadata file: buildx writes a few KiB (more with max provenance); far below what would exhaust the machine. */
const METADATA_MAX_BYTES = 8 * 1024 * 1024;

/** How a front end names the record's parts in its messages: the action's inputs or the CLI's flags. */
export interface BuildRecordNames {
  digest: string;
  metadata: string;
  /** The metadata read from file `path`. */
  metadataFile: (path: string) => string;
  /** What the metadata input or flag takes, when its file cannot be read. */
  metadataFix: string;
  /** Where tags are listed besides the metadata. */
  list: string;
  /** How to list the tags to sign, when the metadata names none. */
  listTags: string;
}

interface BuildRecordGiven {
  /** The image tags given besides the record. */
  listed: readonly string[];
  /** build-push-action's digest output. */
  digest: string | undefined;
  /** The path of the file buildx --metadata-file wrote, or (with `inline`) its JSON itself, as build-push-action's metadata output. */
  metadata: string | undefined;
  /** Whether `metadata` may be the JSON itself (an object: it starts with `{`). */
  inline: boolean;
}

/**
 * The build's record read and checked, and the tags to sign: those listed,
 * then the metadata's tagged names. Untagged names are left out with
 * `warn`, or refused when nothing else is left to sign. Undefined when
 * neither digest nor metadata is given.
 */
export function readBuildRecord(given: BuildRecordGiven, names: BuildRecordNames, warn: (notice: string) => void): { built: BuiltImages; images: string[] } | undefined {
  const { listed, digest, metadata } = given;
  if (digest === undefined && metadata === undefined) return undefined;
  const built = builtImages({
    listed,
    digest: digest === undefined ? undefined : { value: digest, label: names.digest },
    metadata:
      metadata === undefined
        ? undefined
        : given.inline && metadata.startsWith('{')
          ? { text: metadata, label: names.metadata }
          : { text: readUserFile(metadata, { name: names.metadata, fix: names.metadataFix }, { maxBytes: METADATA_MAX_BYTES }), label: names.metadataFile(metadata) },
  });
  const images = [...listed, ...built.names];
  if (built.untagged.length > 0) {
    const notice = untaggedNotice(built, names.metadata, names.list);
    if (images.length === 0) throw new InputError('INPUT_INVALID', notice);
    warn(notice);
  }
  if (images.length === 0 && metadata !== undefined) throw new InputError('INPUT_INVALID', `${names.metadata} has no image.name (buildx writes none for a build merged from several builder nodes) and no tags are listed: ${names.listTags}`);
  return { built, images };
}
