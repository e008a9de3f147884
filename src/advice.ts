/**
 * What to do next, said the way that works where the user is. The core's
 * messages tell users to add a signer, initialise a repository, pass a CA or
 * log in in words of their own (docker's commands, the action's inputs);
 * each front end rewrites that advice into its own: the action names its
 * modes and inputs, the CLI its commands and flags (docker 29 has no
 * `docker trust`, so neither sends anyone there). Only this fixed advice is
 * rewritten, never the outside text around it.
 */
type FrontEnd = 'action' | 'cli';

/** [the core's advice, the action's words, the CLI's words]; `$1` is the repository named. */
const ADVICE: readonly (readonly [RegExp, string, string])[] = [
  // notary/sign-plan.ts: a key that is not a signer of the repository.
  [/`docker trust signer add --key <signer>\.pub <signer> ([^`\s]+)`/g, 'mode add-signer (the signer-name, signer-key and repository-key inputs) on $1', '`content-trust signer add --key <signer>.pub <signer> $1`'],
  // notary/updater.ts: a repository without trust data.
  [
    /e\.g\. `docker trust signer add --key ci\.pub ci ([^`\s]+)`/g,
    'e.g. with mode init and the signer-name and signer-key inputs (or `content-trust signer add --key ci.pub ci $1` from a terminal)',
    'e.g. `content-trust signer add --key ci.pub ci $1`',
  ],
  // notary/resolve.ts: signed only in a role a DCT pull does not read.
  [
    /Add the signer with `docker trust signer add` \(which also adds its key to targets\/releases\)/g,
    'Add the signer with mode add-signer (which also adds its key to targets/releases)',
    'Add the signer with `content-trust signer add` (which also adds its key to targets/releases)',
  ],
  // notary/admin/workflow.ts: an administrative change on a repository without trust data.
  [/\(mode: init, or `content-trust init ([^`\s]+)`\)/g, '(mode: init)', '(`content-trust init $1`)'],
  // notary/resolve.ts: a tag without trust data.
  [/Sign it \(mode: sign\) before verifying/g, 'Sign it (mode: sign) before verifying', 'Sign it (`content-trust sign`) before verifying'],
  // notary/admin/rotate.ts: no such signer.
  [/add it with mode add-signer/g, 'add it with mode add-signer', 'add it with `content-trust signer add`'],
  // http/client.ts: a server certificate from a private CA.
  [/pass its certificate in the `ca-cert` input/g, 'pass its certificate in the `ca-cert` input', 'pass its certificate with --tlscacert (or put it in <docker config>/tls/<host>/ca.crt)'],
  // http/auth.ts: a refused login.
  [/check the `username`\/`password` inputs or the docker login that wrote them/g, 'check the `username`/`password` inputs or the docker login that wrote them', 'check the credentials `docker login` wrote to the Docker config'],
  [/log in first \(docker\/login-action\) or set the `username`\/`password` inputs \(and `registry`\)/g, 'log in first (docker/login-action) or set the `username`/`password` inputs (and `registry`)', 'log in first (`docker login REGISTRY`)'],
  [/or that trust-server and the image names point at the right server/g, 'or that trust-server and the image names point at the right server', 'or that --server (or $DOCKER_CONTENT_TRUST_SERVER) and the image names point at the right server'],
  // notary/repository.ts: trust on first use (the CLI has no root-keys; it remembers the root in the trust directory).
  [/ and root-keys pins no root key/g, ' and root-keys pins no root key', ''],
  [/, then pin it: root-keys: ([0-9a-f,]+)/g, ', then pin it: root-keys: $1', '; the trust directory remembers it from now on'],
  // notary/sign.ts, notary/verify.ts: a digest pinned in the reference.
  [/but the input pins/g, 'but the input pins', 'but the reference pins'],
  // notary/expiry.ts: an expired (or expiring) file and the key that re-signs it.
  [/\(mode: refresh, input ([a-z-]+); or `content-trust refresh ([^`\s]+)`\)/g, '(mode: refresh with the $1 input)', '(`content-trust refresh $2`, with that key in the trust directory)'], // notary/expiry.ts: a certificate that ends, replaced by a key rotation.
  [/\(mode: rotate, rotate-role root; or `content-trust rotate ([^`\s]+) root`\)/g, '(mode: rotate with rotate-role: root and the root-key input)', '(`content-trust rotate $1 root`, with the root key in the trust directory)'],
  [
    /\(mode: rotate, signer-name ([a-z0-9_-]+); or `content-trust rotate ([^`\s]+) signer [a-z0-9_-]+ --key NEW\.pub`\)/g,
    '(mode: rotate with signer-name: $1, its new certificate as signer-key, and the repository-key input)',
    '(`content-trust rotate $2 signer $1 --key NEW.pub`, NEW.pub holding its new certificate)',
  ],
];

/**
 * Whether any of `patterns` matches, in one scan per set of flags among
 * them: patterns with the same flags are joined into one pattern, so each
 * keeps its own i, m, s, u and v. Their g and y flags are dropped (no state
 * is kept between messages; a sticky pattern is looked for anywhere), which
 * can only find more: this only decides whether to run the patterns.
 */
export function anyOf(patterns: readonly RegExp[]): (text: string) => boolean {
  const byFlags = new Map<string, string[]>();
  for (const pattern of patterns) {
    const flags = pattern.flags.replace(/[dgy]/g, '');
    byFlags.set(flags, [...(byFlags.get(flags) ?? []), `(?:${pattern.source})`]);
  }
  const joined = [...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags));
  return (text) => joined.some((pattern) => pattern.test(text));
}

/** Any of the patterns above (each is also searched alone: their groups differ). */
const hasAdvice = anyOf(ADVICE.map(([pattern]) => pattern));

/** `message` with the core's advice in `frontEnd`'s words. */
export function advise(message: string, frontEnd: FrontEnd): string {
  // Most messages (verify's line per image) hold no advice: one scan says so.
  if (!hasAdvice(message)) return message;
  let out = message;
  for (const [pattern, action, cli] of ADVICE) out = out.replace(pattern, frontEnd === 'action' ? action : cli);
  return out;
}
