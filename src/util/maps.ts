/**
 * Maps read from outside, JSON objects and YAML mappings alike: telling a
 * map from a list, a value or null, reading a key the map itself holds
 * (never one inherited), and making a map without a prototype for keys an
 * outsider names. src/util/json.ts and src/util/yaml.ts hand back maps
 * without prototypes; `own` holds for any map.
 */

/** A map: an object that is neither null nor a list (a YAML value narrows to its mapping). */
export function isMap(v: unknown): v is { [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own property of a parsed or plain object, never one inherited. */
export function own<T>(map: { readonly [key: string]: T } | undefined, key: string): T | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}

/** An empty object without a prototype, for maps written with outside keys. */
export function emptyMap<T>(): { [key: string]: T } {
  return Object.create(null) as { [key: string]: T };
}
