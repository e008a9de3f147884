/**
 * `content-trust`: Docker Content Trust from a terminal, without the docker
 * or notary CLIs, on the same core as the action. Keys live in docker's
 * trust directory and format; passphrases come from docker's variables.
 * stdout carries results; stderr errors and warnings (and progress with
 * --verbose), each said once.
 */
import { parseArgs, type Args } from './args.ts';
import * as commands from './commands.ts';
import { InputError, MultiError, asContentTrustError, failureMessage } from '../errors.ts';
import { forLog, linesForLog } from '../util/untrusted-text.ts';
import { advise } from '../advice.ts';

interface Command {
  /** The words after `content-trust` and what follows them. */
  usage: string;
  /** One line for the overview. */
  summary: string;
  /** What --help adds. */
  help?: string;
  /** Its own flags (the global ones are accepted everywhere). */
  flags: readonly string[];
  run(args: Args, io: commands.Io): void | Promise<void>;
}

const GLOBAL_FLAGS = ['server', 'tlscacert', 'debug', 'verbose', 'help'];

/** The administering commands' keys held elsewhere than the trust directory. */
const ADMIN_KEY_FLAGS = ['repository-key', 'root-key', 'pkcs11-module'] as const;
const ADMIN_KEYS_HELP = `Keys come from the trust directory, or:
  --repository-key FILE|URI  the repository (targets) key: a PEM file, or a PKCS#11 URI of a key on
                             a token (pkcs11:token=…;object=…; PIN in DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE)
  --root-key FILE|URI        the root key (PIN in DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE)
  --pkcs11-module LIB        the token's PKCS#11 library (or ?module-path= in the URI); needs OpenSC's pkcs11-tool`;

const COMMANDS: Record<string, Command> = {
  'key generate': { usage: 'key generate NAME [--dir DIR]', summary: 'new signer key in the trust dir, NAME.pub in DIR', flags: ['dir'], run: commands.keyGenerate },
  'key load': { usage: 'key load FILE [--name NAME]', summary: 'import a PEM private key as signer NAME', flags: ['name'], run: commands.keyLoad },
  init: {
    usage: 'init REPOSITORY... [--root-key FILE|URI] [--repository-key FILE|URI]',
    summary: 'create trust data (root and repository keys)',
    help: `The trust directory's root key is used (else a new one is made and saved there), and a new repository key is made and saved there.
A key given by flag is used instead, and none is made for it; a key on a PKCS#11 token stays there: the token signs the root
certificate (CN=REPOSITORY) and the first root.json, or targets.json. The root key ID printed is the one docker trust inspect prints.
  --root-key FILE|URI        the root key: a PEM file, or a PKCS#11 URI (pkcs11:token=…;object=…; PIN in
                             DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE); ECDSA P-256
  --repository-key FILE|URI  the repository (targets) key (PIN in DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE)
  --pkcs11-module LIB        the token's PKCS#11 library (or ?module-path= in the URI); needs OpenSC's pkcs11-tool`,
    flags: [...ADMIN_KEY_FLAGS],
    run: (a, io) => commands.init(a, io),
  },
  'signer add': {
    usage: 'signer add --key KEY.pub NAME REPOSITORY... [--paths PATTERN,...]',
    summary: 'add a signer, or a key to one (initialises a new repository)',
    help:
      'For an existing signer, the key is added to it (any one of its keys signs). --paths restricts a new signer to tags matching the patterns, each a prefix followed by * ("v1.*,release-*"; notary\'s delegation paths are tag prefixes); sign refuses other tags. A restricted signer is not added to targets/releases, which allows every tag: a DCT pull does not accept what it signs, `content-trust verify --signer NAME` does.\n' +
      ADMIN_KEYS_HELP,
    flags: ['key', 'paths', ...ADMIN_KEY_FLAGS],
    run: commands.signerAdd,
  },
  'signer remove': {
    usage: 'signer remove NAME REPOSITORY... [--key KEY.pub | --key-id ID,...]',
    summary: 'remove a signer, or some of its keys',
    help: "With --key or --key-id (the IDs `content-trust inspect` prints for the signer's keys), only those keys are removed and the signer stays; its last key cannot be removed (remove the signer instead).\n" + ADMIN_KEYS_HELP,
    flags: ['key', 'key-id', ...ADMIN_KEY_FLAGS],
    run: commands.signerRemove,
  },
  sign: {
    usage: 'sign IMAGE:TAG... [--signer NAME] [--digest DIGEST] [--metadata FILE]',
    summary: 'sign pushed tags with your signer key',
    help: `The key is the trust directory's key of a signer of the repository; when it holds keys of several signers, --signer NAME chooses one.
To sign exactly what a build pushed: --digest DIGEST (sha256:<hex>, build-push-action's digest output) is the digest every tag must point at;
--metadata FILE (the JSON \`docker buildx build --metadata-file\` writes) gives it and the tags (image.name; names without a tag are not signed),
so IMAGE:TAG may be left out. A tag that points elsewhere in the registry fails PIN_MISMATCH and nothing is signed.
A key held elsewhere:
  --key FILE|URI             a PEM private key file, or a PKCS#11 URI of a key on a token
                             (pkcs11:token=ci;object=dct-signer; PIN in
                             DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE; needs OpenSC's pkcs11-tool)
  --pkcs11-module LIB        the token's PKCS#11 library (or ?module-path= in the URI)
  --sign-command CMD         a shell command that signs (a cloud KMS's CLI): it reads the SHA-256
                             digest in hex on stdin ($CONTENT_TRUST_DIGEST, $CONTENT_TRUST_DIGEST_BASE64)
                             and prints the ECDSA P-256 signature (r||s or DER; binary, hex or base64)
  --public-key FILE          with --sign-command: the PEM public key the command signs with
  --sign-command-timeout S   seconds per signature (60)
Every signature is checked against the public key before anything is published.`,
    flags: ['signer', 'digest', 'metadata', 'key', 'pkcs11-module', 'sign-command', 'public-key', 'sign-command-timeout'],
    run: commands.sign,
  },
  verify: {
    usage: 'verify IMAGE:TAG... [--signer A,B] [--json] [--no-registry] [--manifests PATH,...] [--pin]',
    summary: 'check tags are signed (by A or B)',
    help: `--manifests PATH,...  also verify the images of these deployment files (repeatable; paths or globs
                      such as k8s/**/*.yaml, inside the current directory): Kubernetes manifests (rendered
                      helm template or kustomize build output too), Compose files, GitHub workflow files.
                      Each result and failure names the file and line.
--pin                 then rewrite each verified image in those files to name:tag@sha256:<digest>,
                      in place (nothing else in the file changes), only when every image verified.`,
    flags: ['signer', 'json', 'no-registry', 'manifests', 'pin'],
    run: commands.verify,
  },
  inspect: { usage: 'inspect IMAGE[:TAG]... [--pretty]', summary: 'what docker trust inspect prints', flags: ['pretty'], run: commands.inspect },
  revoke: { usage: 'revoke IMAGE[:TAG]...', summary: 'remove signatures (all tags without one)', help: ADMIN_KEYS_HELP, flags: [...ADMIN_KEY_FLAGS], run: commands.revoke },
  refresh: {
    usage: 'refresh REPOSITORY... [--within DAYS]',
    summary: 're-sign what expires within DAYS (182)',
    help:
      "Re-signs, with the trust directory's keys, what they sign that expires within DAYS or has already expired: targets.json with the repository key, root.json with the root key, a signer's files with its key. A repository whose files expired comes back to life, nothing deleted.\n" +
      ADMIN_KEYS_HELP,
    flags: ['within', ...ADMIN_KEY_FLAGS],
    run: commands.refresh,
  },
  rotate: {
    usage: 'rotate REPOSITORY root|repository|snapshot|timestamp|signer NAME [--key NEW.pub]',
    summary: "new root, repository or server-held key (needs the root key), or a signer's new key",
    help:
      "root, repository: a new key is made and saved in the trust directory (as `notary key rotate REPOSITORY root|targets` does), and a root naming it is published, signed by the current root key; a new root key signs it too, so clients that trust the old root follow it. repository re-signs targets with the new key, its signers kept. snapshot, timestamp: the server makes the new key. signer NAME --key NEW.pub: the signer's new public key replaces its old one.\n" +
      "root, repository --new-key FILE|URI: the new key is this one instead of a new file: a PEM file or a PKCS#11 URI of a key on a token (ECDSA P-256), which signs the new root certificate and root.json (root) or targets.json (repository) there; its passphrase or PIN is in CONTENT_TRUST_NEW_KEY_PASSPHRASE, else the role's variable.\n" +
      ADMIN_KEYS_HELP,
    flags: ['key', 'new-key', ...ADMIN_KEY_FLAGS],
    run: commands.rotate,
  },
  status: {
    usage: 'status REPOSITORY... [--within DAYS] [--json]',
    summary: "every role's expiry and keys; fails when one expires within DAYS (30)",
    help: 'Reads only and needs no key. Lists each role (root, targets, every signer, snapshot, timestamp) with its version, expiry, days left, signers and key IDs, and the root key ID as docker trust inspect prints it. Exits 1 naming the repository, the role, the date and the fix (EXPIRED, or EXPIRING when within DAYS). Snapshot and timestamp are signed by the Notary server, which renews them itself: they fail the check only when served expired.',
    flags: ['within', 'json'],
    run: commands.status,
  },
};

const OPTIONS = `Options (before or after the command):
  --server URL       the Notary server (else $DOCKER_CONTENT_TRUST_SERVER, else the registry's)
  --tlscacert FILE   CA certificates for the Notary server (PEM)
  --verbose          progress on stderr
  --debug            every request on stderr
  -h, --help         this help, or a command's
Keys: $DOCKER_CONFIG/trust/private (else ~/.docker/trust/private)
Passphrases: DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE (never prompted)
`;

const USAGE = `Usage: content-trust [OPTIONS] COMMAND

${Object.values(COMMANDS)
  .map((c) => (c.usage.length > 38 ? `  ${c.usage}\n  ${' '.repeat(39)}${c.summary}` : `  ${c.usage.padEnd(39)}${c.summary}`))
  .join('\n')}

${OPTIONS}Run \`content-trust COMMAND --help\` for a command's help.
`;

function commandHelp(name: string, c: Command): string {
  return `Usage: content-trust ${c.usage}\n\n${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.${c.help ? `\n${c.help}` : ''}\n\n${OPTIONS}`.replace('COMMAND', name);
}

/** The command the positionals start with: one word, or two for `key` and `signer`. */
function findCommand(positionals: readonly string[]): { name: string; command: Command } | { group: string } | undefined {
  const [first, second] = positionals;
  if (first === undefined) return undefined;
  if (first === 'key' || first === 'signer') {
    const name = `${first} ${second ?? ''}`;
    return COMMANDS[name] ? { name, command: COMMANDS[name] } : { group: first };
  }
  return Object.hasOwn(COMMANDS, first) ? { name: first, command: COMMANDS[first]! } : undefined;
}

export async function main(argv: readonly string[], io: commands.Io & { err: (text: string) => void }): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.positionals[0] === 'help') {
      args.positionals.shift();
      args.flags.set('help', true);
    }
    const help = args.flags.has('help');
    const found = findCommand(args.positionals);
    if (!found) {
      if (args.positionals.length === 0) {
        (help ? io.out : io.err)(USAGE);
        return help ? 0 : 2;
      }
      io.err(`content-trust: unknown command ${JSON.stringify(forLog(args.positionals[0]!, 100))}: see \`content-trust --help\`\n`);
      return 2;
    }
    if ('group' in found) {
      const names = Object.keys(COMMANDS).filter((n) => n.startsWith(`${found.group} `));
      if (help) {
        io.out(`Usage:\n${names.map((n) => `  content-trust ${COMMANDS[n]!.usage}`).join('\n')}\n`);
        return 0;
      }
      io.err(`content-trust: \`content-trust ${found.group}\` needs one of: ${names.map((n) => n.split(' ')[1]).join(', ')}: see \`content-trust ${found.group} --help\`\n`);
      return 2;
    }
    const { name, command } = found;
    if (help) {
      io.out(commandHelp(name, command));
      return 0;
    }
    for (const f of args.flags.keys()) {
      if (!GLOBAL_FLAGS.includes(f) && !command.flags.includes(f)) {
        throw new InputError('INPUT_INVALID', `\`content-trust ${name}\` has no --${f} flag${command.flags.length ? ` (its own: ${command.flags.map((x) => `--${x}`).join(', ')})` : ''}: see \`content-trust ${name} --help\``);
      }
    }
    args.positionals.splice(0, name.split(' ').length);
    await command.run(args, io);
    return 0;
  } catch (e) {
    const error = asContentTrustError(e);
    const lines = error instanceof MultiError ? error.failures.map((f) => `${f.error.code}: ${failureMessage(f)}`) : [`${error.code}: ${error.message}`];
    for (const l of lines) io.err(`content-trust: ${forLog(advise(l, 'cli'))}\n`);
    return 1;
  }
}

// Results carry outside values (tags, signer names, server messages): no
// control sequence reaches the terminal and no workflow command the runner,
// when the CLI runs in a workflow step.
process.exitCode = await main(process.argv.slice(2), { out: (t) => process.stdout.write(linesForLog(t)), err: (t) => process.stderr.write(linesForLog(t)), env: process.env });
