/**
 * JSON from outside (servers, registries, token services, files), parsed
 * with bounds: the size is checked before anything is decoded, the nesting
 * depth is checked by a linear scan before JSON.parse recurses, and every
 * object comes back without a prototype, so a key such as `constructor` or
 * `__proto__` is an ordinary key (`obj[key]` finds only what the document
 * holds). Duplicate keys keep the last value, as Go's encoding/json does.
 */
import type { ContentTrustError } from '../errors.ts';

export interface JsonLimits {
  /** Refuse larger input (bytes, or UTF-16 units for a string). Default: 8 MiB. */
  maxBytes?: number;
  /** Refuse deeper nesting of arrays and objects. Default: 64. */
  maxDepth?: number;
}

const DEFAULT_JSON_LIMITS: Required<JsonLimits> = { maxBytes: 8 * 1024 * 1024, maxDepth: 64 };

/** A JSON object as parsed here: own keys only, no prototype. */
export type JsonObject = { [key: string]: unknown };

/**
 * Parses `input` within `limits`; `fail(why)` makes the caller's error
 * (its code and subject), thrown for oversize, over-deep or malformed input.
 */
export function parseJson(input: Buffer | string, fail: (why: string) => ContentTrustError, limits: JsonLimits = {}): unknown {
  const { maxBytes, maxDepth } = { ...DEFAULT_JSON_LIMITS, ...limits };
  if (input.length > maxBytes) throw fail(`is ${input.length} bytes, more than the ${maxBytes} allowed`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const depth = nestingDepth(text, maxDepth);
  if (depth > maxDepth) throw fail(`nests arrays or objects more than ${maxDepth} deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the input, which may hold a secret (a token, a
    // helper's password) or hostile text: say where, never what.
    const at = /position (\d+)/.exec(e instanceof Error ? e.message : '')?.[1];
    throw fail(`is not JSON${at === undefined ? '' : ` (at byte ${at})`}`);
  }
  return withoutPrototypes(value);
}

/** The deepest nesting of `[`/`{` outside strings, counting stops just past `limit`. */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Re-parents every object in place to null (arrays stay arrays). */
function withoutPrototypes(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (const v of value) withoutPrototypes(v);
    return value;
  }
  Object.setPrototypeOf(value, null);
  for (const key in value) withoutPrototypes((value as JsonObject)[key]);
  return value;
}
