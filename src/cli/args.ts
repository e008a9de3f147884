/** A small argv parser: positionals, `--flag`, `--name value` and `--name=value`. */
import { InputError } from '../errors.ts';

export interface Args {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], valued: readonly string[]): Args {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(a);
    if (!m) {
      positionals.push(a);
      continue;
    }
    const [, name, inline] = m;
    if (valued.includes(name!)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new InputError('INPUT_INVALID', `--${name} needs a value`);
      flags.set(name!, value);
    } else {
      if (inline !== undefined) throw new InputError('INPUT_INVALID', `--${name} takes no value`);
      flags.set(name!, true);
    }
  }
  return { positionals, flags };
}

export function flag(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}
