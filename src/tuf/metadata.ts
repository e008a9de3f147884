/**
 * Notary's TUF metadata: types, shape checks and parsing (notary
 * tuf/data/{root,targets,snapshot,timestamp}.go). Parsing keeps the decoded
 * `signed` object whole, so fields this code does not know survive a re-sign.
 */
import { canonicalize } from './canonical.ts';
import { TrustError, type ContentTrustError } from '../errors.ts';
import { parseJson, type JsonLimits } from '../util/json.ts';
import { emptyMap, isMap } from '../util/maps.ts';
import type { TufKeyJson } from './keys.ts';

export interface Signature {
  keyid: string;
  method: string;
  sig: string;
}
export interface RoleKeys {
  keyids: string[];
  threshold: number;
}
export interface FileMeta {
  hashes: Record<string, string>;
  length: number;
  custom?: unknown;
}
export interface DelegationRole extends RoleKeys {
  name: string;
  paths?: string[];
}
export interface Delegations {
  keys: Record<string, TufKeyJson>;
  roles: DelegationRole[];
}
interface Common {
  expires: string;
  version: number;
}
export interface RootSigned extends Common {
  _type: 'Root';
  consistent_snapshot: boolean;
  keys: Record<string, TufKeyJson>;
  roles: Record<'root' | 'snapshot' | 'targets' | 'timestamp', RoleKeys>;
}
export interface TargetsSigned extends Common {
  _type: 'Targets';
  delegations: Delegations;
  targets: Record<string, FileMeta>;
}
export interface SnapshotSigned extends Common {
  _type: 'Snapshot';
  meta: Record<string, FileMeta>;
}
export interface TimestampSigned extends Common {
  _type: 'Timestamp';
  meta: { snapshot: FileMeta };
}
export type SignedKind = { Root: RootSigned; Targets: TargetsSigned; Snapshot: SnapshotSigned; Timestamp: TimestampSigned };

export interface Metadata<T> {
  /** Role name: root, timestamp, snapshot, targets, targets/releases, ... */
  readonly role: string;
  readonly signed: T;
  readonly signatures: Signature[];
  /** The file's bytes as served (what snapshot and timestamp hashes cover). */
  readonly raw: Buffer;
  /** Canonical bytes of `signed`: what the signatures cover. */
  readonly canonical: Buffer;
  readonly expires: Date;
}

const BASE_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
const DELEGATION_NAME = /^targets(\/[-a-z0-9_]+)+$/;

/**
 * Decodes and shape-checks one role's file. The size cap is the caller's
 * (the read was capped); the nesting depth is checked here before decoding,
 * and every map comes back without a prototype, so a tag, role or key ID
 * named `constructor` or `__proto__` is an ordinary key.
 */
export function parseMetadata<K extends keyof SignedKind>(raw: Buffer, role: string, kind: K): Metadata<SignedKind[K]> {
  const doc = takeDecoded(raw) ?? parseJson(raw, (why) => invalid(role, why), { maxBytes: Number.POSITIVE_INFINITY });
  if (!isMap(doc) || !isMap(doc.signed) || !Array.isArray(doc.signatures)) {
    throw invalid(role, 'is not a signed envelope {"signed":{…},"signatures":[…]}');
  }
  const signed = doc.signed;
  for (const s of doc.signatures) {
    if (!isMap(s) || typeof s.keyid !== 'string' || typeof s.method !== 'string' || typeof s.sig !== 'string') {
      throw invalid(role, 'has a malformed signature entry');
    }
  }
  if (signed._type !== kind) throw invalid(role, `has _type ${JSON.stringify(signed._type)}, expected ${kind}`);
  if (!isVersion(signed.version)) throw invalid(role, 'has no valid version (an integer of at least 1)');
  const expires = parseExpiry(signed.expires, role);
  CHECKS[kind](signed, role);
  // The signatures cover the file as written; only then are absent
  // delegations filled in (Go decodes them as empty), so readers need no guards.
  const canonical = canonicalize(signed);
  if (kind === 'Targets') {
    const d = signed.delegations as Partial<Delegations> | undefined;
    signed.delegations = Object.assign(emptyMap<unknown>(), { keys: d?.keys ?? emptyMap<TufKeyJson>(), roles: d?.roles ?? [] });
  }
  return { role, signed: signed as unknown as SignedKind[K], signatures: doc.signatures as Signature[], raw, canonical, expires };
}

/**
 * Files decoded before parseMetadata reads them: the trust store decodes a
 * remembered file for its version, and the update then parses the same
 * buffer when it still matches what the server announces (a delegation of
 * 5,000 tags: one decode, not two). Taken once, since parseMetadata changes
 * the document it is given; keyed by the buffer, so only those bytes match.
 */
const decoded = new WeakMap<Buffer, unknown>();

/** parseJson of a metadata file, kept for the parseMetadata of the same buffer. */
export function decodeMetadata(raw: Buffer, fail: (why: string) => ContentTrustError, limits: JsonLimits): unknown {
  const doc = parseJson(raw, fail, limits);
  decoded.set(raw, doc);
  return doc;
}

function takeDecoded(raw: Buffer): unknown {
  const doc = decoded.get(raw);
  if (doc !== undefined) decoded.delete(raw);
  return doc;
}

export function parseExpiry(value: unknown, role: string): Date {
  // RFC 3339 with any offset; Go writes up to nine fraction digits.
  const m = typeof value === 'string' ? /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.exec(value) : null;
  const ms = m && isCalendarTime(m[1]!) ? Date.parse(`${m[1]}${(m[2] ?? '').slice(0, 4)}${m[3]!.toUpperCase()}`) : NaN;
  if (Number.isNaN(ms)) throw invalid(role, `has an unreadable expiry ${JSON.stringify(value)}`);
  return new Date(ms);
}

/** Date.parse rolls 02-30 or 24:00 over; Go's time.Parse (and so notary) refuses them. */
function isCalendarTime(s: string): boolean {
  const [y, mo, d, h, mi, se] = s.split(/[-T:]/).map(Number) as [number, number, number, number, number, number];
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, se);
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === se;
}

const CHECKS: { [K in keyof SignedKind]: (s: Record<string, unknown>, role: string) => void } = {
  Root(s, role) {
    checkKeys(s.keys, role);
    if (!isMap(s.roles)) throw invalid(role, 'has no roles');
    for (const r of BASE_ROLES) checkRoleKeys(s.roles[r], `${role} role ${r}`);
  },
  Targets(s, role) {
    if (!isMap(s.targets)) throw invalid(role, 'has no targets map');
    // A delegation may list thousands of targets: the entry's name goes into a message only when it fails.
    const targets = s.targets;
    for (const name of Object.keys(targets)) {
      const problem = fileMetaProblem(targets[name]);
      if (problem) throw new TrustError('METADATA_INVALID', `${role} target ${JSON.stringify(name)} ${problem}`);
    }
    const d = s.delegations;
    if (d === undefined) return;
    if (!isMap(d) || !Array.isArray(d.roles)) throw invalid(role, 'has malformed delegations');
    checkKeys(d.keys ?? {}, role);
    for (const r of d.roles) {
      checkRoleKeys(r, `${role} delegation`);
      const dr = r as Record<string, unknown>;
      if (typeof dr.name !== 'string' || !DELEGATION_NAME.test(dr.name) || dr.name.length >= 256) {
        throw invalid(role, `delegates to an invalid role name ${JSON.stringify(dr.name)}`);
      }
      if (dr.paths !== undefined && !(Array.isArray(dr.paths) && dr.paths.every((p) => typeof p === 'string'))) {
        throw invalid(role, `delegation ${dr.name} has malformed paths`);
      }
    }
  },
  Snapshot(s, role) {
    if (!isMap(s.meta)) throw invalid(role, 'has no meta map');
    for (const [name, meta] of Object.entries(s.meta)) checkFileMeta(meta, `${role} entry ${name}`);
  },
  Timestamp(s, role) {
    if (!isMap(s.meta)) throw invalid(role, 'has no meta map');
    checkFileMeta(s.meta.snapshot, `${role} entry snapshot`);
  },
};

function checkKeys(keys: unknown, role: string): void {
  if (!isMap(keys)) throw invalid(role, 'has no keys map');
  for (const [id, k] of Object.entries(keys)) {
    if (!isMap(k) || typeof k.keytype !== 'string' || !isMap(k.keyval) || typeof k.keyval.public !== 'string') {
      throw invalid(role, `has a malformed key ${id}`);
    }
  }
}

function checkRoleKeys(r: unknown, where: string): void {
  if (!isMap(r) || !Array.isArray(r.keyids) || !r.keyids.every((k) => typeof k === 'string') || !isVersion(r.threshold)) {
    throw new TrustError('METADATA_INVALID', `${where} needs keyids and a threshold of at least 1`);
  }
}

function checkFileMeta(m: unknown, where: string): void {
  const problem = fileMetaProblem(m);
  if (problem) throw new TrustError('METADATA_INVALID', `${where} ${problem}`);
}

/** What is wrong with a file's hashes and length, if anything. */
function fileMetaProblem(m: unknown): string | undefined {
  if (!isMap(m) || !isMap(m.hashes) || typeof m.length !== 'number' || !Number.isSafeInteger(m.length) || m.length < 0) return 'needs hashes and a length';
  for (const v of Object.values(m.hashes)) if (typeof v !== 'string') return 'has a non-string hash';
  return undefined;
}

function isVersion(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

function invalid(role: string, what: string): TrustError {
  return new TrustError('METADATA_INVALID', `${role}.json ${what}`);
}

/**
 * A deep copy of decoded metadata to change and re-sign. Every object of the
 * copy has no prototype (structuredClone would give them Object.prototype
 * again), so writing a tag named `__proto__` adds an entry rather than
 * replacing the map's prototype, and reading `constructor` finds only what
 * the file holds.
 */
export function cloneSigned<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneSigned) as T;
  const out = emptyMap<unknown>();
  for (const key of Object.keys(value)) out[key] = cloneSigned((value as Record<string, unknown>)[key]);
  return out as T;
}
