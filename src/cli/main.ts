#!/usr/bin/env node
/**
 * `content-trust`: Docker Content Trust from a terminal, without the docker
 * or notary CLIs, on the same core as the action. Keys live in docker's
 * trust directory and format; passphrases come from docker's variables.
 */
import { parseArgs } from './args.ts';
import * as commands from './commands.ts';
import { MultiError, asContentTrustError } from '../errors.ts';
import { forLog, linesForLog } from '../util/untrusted-text.ts';

const USAGE = `Usage: content-trust COMMAND

  key generate NAME [--dir DIR]          new signer key in the trust dir, NAME.pub in DIR
  key load FILE [--name NAME]            import a PEM private key as signer NAME
  init REPOSITORY...                     create trust data (root and repository keys)
  signer add --key KEY.pub NAME REPO...  add a signer (initialises a new repository)
  signer remove NAME REPOSITORY...       remove a signer
  sign IMAGE:TAG...                      sign pushed tags with your signer key
  verify IMAGE:TAG... [--signer A,B] [--json] [--no-registry]
  inspect IMAGE[:TAG]... [--pretty]      what docker trust inspect prints
  revoke IMAGE[:TAG]...                  remove signatures (all tags without one)
  refresh REPOSITORY... [--within DAYS]  re-sign what expires within DAYS (182)
  rotate REPOSITORY snapshot|timestamp   new server-held key (needs the root key)
  rotate REPOSITORY signer NAME --key NEW.pub

Options: --server URL (else $DOCKER_CONTENT_TRUST_SERVER), --tlscacert FILE, --debug
Keys: $DOCKER_CONFIG/trust/private (else ~/.docker/trust/private)
Passphrases: DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE (never prompted)
`;

const VALUED = ['server', 'tlscacert', 'dir', 'name', 'key', 'signer', 'within'];

export async function main(argv: readonly string[], io: commands.Io): Promise<number> {
  const [first, second, ...rest] = argv;
  try {
    if (!first || first === '--help' || first === '-h' || first === 'help') {
      io.out(USAGE);
      return first ? 0 : 2;
    }
    const pair = `${first} ${second ?? ''}`;
    const table: Record<string, () => Promise<void>> = {
      'key generate': () => commands.keyGenerate(parseArgs(rest, VALUED), io),
      'key load': () => commands.keyLoad(parseArgs(rest, VALUED), io),
      'signer add': () => commands.signerAdd(parseArgs(rest, VALUED), io),
      'signer remove': () => commands.signerRemove(parseArgs(rest, VALUED), io),
    };
    const single: Record<string, (a: ReturnType<typeof parseArgs>, io: commands.Io) => Promise<void>> = {
      init: (a) => commands.init(a, io),
      sign: commands.sign,
      verify: commands.verify,
      inspect: commands.inspect,
      revoke: commands.revoke,
      refresh: commands.refresh,
      rotate: commands.rotate,
    };
    if (table[pair]) await table[pair]();
    else if (single[first]) await single[first](parseArgs(argv.slice(1), VALUED), io);
    else {
      io.out(USAGE);
      return 2;
    }
    return 0;
  } catch (e) {
    const error = asContentTrustError(e);
    const lines = error instanceof MultiError ? error.failures.map((f) => `${f.error.code}: ${f.error.message}`) : [`${error.code}: ${error.message}`];
    for (const l of lines) process.stderr.write(`content-trust: ${forLog(l)}\n`);
    return 1;
  }
}

// Results carry outside values (tags, signer names, server messages): no
// control sequence reaches the terminal and no workflow command the runner,
// when the CLI runs in a workflow step.
process.exitCode = await main(process.argv.slice(2), { out: (t) => process.stdout.write(linesForLog(t)), env: process.env });
