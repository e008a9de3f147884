/**
 * The command line, parsed strictly: `--flag`, `--name value`,
 * `--name=value` and `-h`, before or after the command words, as notary and
 * docker users type them (`content-trust --server URL init REPO`). An
 * unknown flag, a missing value, a value given to a switch and a flag given
 * twice are errors naming the flag.
 */
import { InputError } from '../errors.ts';

export interface Args {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Every flag the CLI knows: true when it takes a value. */
const FLAGS: Readonly<Record<string, boolean>> = {
  server: true,
  tlscacert: true,
  debug: false,
  verbose: false,
  help: false,
  dir: true,
  name: true,
  key: true,
  'key-id': true,
  paths: true,
  signer: true,
  within: true,
  json: false,
  'no-registry': false,
  pretty: false,
  digest: true,
  metadata: true,
  'pkcs11-module': true,
  'sign-command': true,
  'public-key': true,
  'sign-command-timeout': true,
  'repository-key': true,
  'root-key': true,
  'new-key': true,
  manifests: true,
  pin: false,
};

/** Flags that may be given more than once: their values are kept, one per line. */
const REPEATABLE = new Set(['manifests']);

const FLAG = /^--([a-z][a-z0-9-]*)(?:=([\s\S]*))?$/;

/** `see` says where the usage is (`content-trust --help`), for the error messages. */
export function parseArgs(argv: readonly string[], see = 'content-trust --help'): Args {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h') {
      flags.set('help', true);
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const m = FLAG.exec(a);
    const name = m?.[1];
    if (!m || name === undefined || !Object.hasOwn(FLAGS, name)) throw new InputError('INPUT_INVALID', `unknown flag ${JSON.stringify(a.split('=')[0])}: see \`${see}\``);
    if (flags.has(name) && !REPEATABLE.has(name)) throw new InputError('INPUT_INVALID', `--${name} is given twice: give it once`);
    if (FLAGS[name]) {
      const next = argv[i + 1];
      const value = m[2] ?? (next === undefined || next.startsWith('--') ? undefined : (i++, next));
      if (value === undefined || value === '') throw new InputError('INPUT_INVALID', `--${name} needs a value: see \`${see}\``);
      const earlier = flags.get(name);
      flags.set(name, typeof earlier === 'string' ? `${earlier}\n${value}` : value);
    } else {
      if (m[2] !== undefined) throw new InputError('INPUT_INVALID', `--${name} takes no value (it was given "=${m[2].slice(0, 40)}")`);
      flags.set(name, true);
    }
  }
  return { positionals, flags };
}

export function flag(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}
