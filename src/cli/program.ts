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

const COMMANDS: Record<string, Command> = {
  'key generate': { usage: 'key generate NAME [--dir DIR]', summary: 'new signer key in the trust dir, NAME.pub in DIR', flags: ['dir'], run: commands.keyGenerate },
  'key load': { usage: 'key load FILE [--name NAME]', summary: 'import a PEM private key as signer NAME', flags: ['name'], run: commands.keyLoad },
  init: { usage: 'init REPOSITORY...', summary: 'create trust data (root and repository keys)', flags: [], run: (a, io) => commands.init(a, io) },
  'signer add': { usage: 'signer add --key KEY.pub NAME REPOSITORY...', summary: 'add a signer (initialises a new repository)', flags: ['key'], run: commands.signerAdd },
  'signer remove': { usage: 'signer remove NAME REPOSITORY...', summary: 'remove a signer', flags: [], run: commands.signerRemove },
  sign: {
    usage: 'sign IMAGE:TAG... [--signer NAME]',
    summary: 'sign pushed tags with your signer key',
    help: "The key is the trust directory's key of a signer of the repository; when it holds keys of several signers, --signer NAME chooses one.",
    flags: ['signer'],
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
  revoke: { usage: 'revoke IMAGE[:TAG]...', summary: 'remove signatures (all tags without one)', flags: [], run: commands.revoke },
  refresh: { usage: 'refresh REPOSITORY... [--within DAYS]', summary: 're-sign what expires within DAYS (182)', flags: ['within'], run: commands.refresh },
  rotate: {
    usage: 'rotate REPOSITORY snapshot|timestamp, or rotate REPOSITORY signer NAME --key NEW.pub',
    summary: "new server-held key (needs the root key), or a signer's new key",
    flags: ['key'],
    run: commands.rotate,
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
  return `Usage: content-trust ${c.usage.replace(', or rotate', `\n       content-trust rotate`)}\n\n${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.${c.help ? `\n${c.help}` : ''}\n\n${OPTIONS}`.replace('COMMAND', name);
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
process.exitCode = await main(process.argv.slice(2), { out: (t) => process.stdout.write(linesForLog(t)), err: (t) => process.stderr.write(t), env: process.env });
