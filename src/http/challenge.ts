/** WWW-Authenticate parsing (RFC 7235 auth-params, as docker/distribution sends them). */
import { emptyMap } from '../util/maps.ts';

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`, or another the server names. */
  scheme: string;
  /** Keyed by the server's parameter names: a map without a prototype. */
  params: { [name: string]: string };
}

export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^\s*[A-Za-z]/.test(value)) return undefined;
  // One value may carry several challenges (Node joins repeated headers with
  // ", "): a bare token starts a challenge, name=value pairs go to the last one.
  const challenges: Challenge[] = [];
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))|([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)/g;
  for (const p of value.matchAll(re)) {
    if (p[4] !== undefined) challenges.push({ scheme: p[4].toLowerCase(), params: emptyMap<string>() });
    else if (challenges.length > 0) challenges.at(-1)!.params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic') ?? challenges[0];
}
