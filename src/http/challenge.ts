/** WWW-Authenticate parsing (RFC 7235 auth-params, as docker/distribution sends them). */
export interface Challenge {
  scheme: 'bearer' | 'basic' | string;
  params: Record<string, string>;
}

export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(.*)$/.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const p of m[2]!.matchAll(re)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}
