import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../src/cli/args.ts';
import type { ContentTrustError } from '../../src/errors.ts';

const invalid = (message: RegExp) => (e: ContentTrustError) => e.code === 'INPUT_INVALID' && message.test(e.message);

describe('parseArgs (the CLI\'s command line)', () => {
  it('flags before or after the command words, as notary users type them', () => {
    for (const argv of [['--server', 'https://n.example', 'init', 'r'], ['init', '--server', 'https://n.example', 'r'], ['init', 'r', '--server=https://n.example']]) {
      const a = parseArgs(argv);
      assert.deepEqual(a.positionals, ['init', 'r'], argv.join(' '));
      assert.equal(a.flags.get('server'), 'https://n.example');
    }
  });

  it('switches, -h, and -- ending the flags', () => {
    const a = parseArgs(['verify', '--json', '-h', '--', '--not-a-flag']);
    assert.deepEqual(a.positionals, ['verify', '--not-a-flag']);
    assert.equal(a.flags.get('json'), true);
    assert.equal(a.flags.get('help'), true);
  });

  it('an unknown flag is an error naming it (single-dash forms too), without its value', () => {
    assert.throws(() => parseArgs(['verify', '--sigenr', 'ci', 'x:1']), invalid(/^unknown flag "--sigenr": see `content-trust --help`$/));
    assert.throws(() => parseArgs(['verify', '--password=hunter2']), invalid(/^unknown flag "--password": /));
    assert.throws(() => parseArgs(['-s', 'https://n.example', 'init', 'r']), invalid(/^unknown flag "-s"/));
    assert.throws(() => parseArgs(['--constructor']), invalid(/^unknown flag "--constructor"/));
  });

  it('a missing value is an error naming the flag: at the end, empty, or followed by another flag', () => {
    for (const argv of [['init', 'r', '--server'], ['init', 'r', '--server='], ['--server', '--debug', 'init', 'r']]) {
      assert.throws(() => parseArgs(argv), invalid(/^--server needs a value/), argv.join(' '));
    }
  });

  it('a value given to a switch, and a flag given twice, are errors naming it', () => {
    assert.throws(() => parseArgs(['verify', '--json=yes', 'x:1']), invalid(/^--json takes no value/));
    assert.throws(() => parseArgs(['verify', '--signer', 'a', '--signer', 'b', 'x:1']), invalid(/^--signer is given twice/));
  });

  it('a value may start with a single dash (--within -1 reaches the command, which refuses it by name)', () => {
    assert.equal(parseArgs(['refresh', 'r', '--within', '-1']).flags.get('within'), '-1');
  });
});
