import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../src/cli/args.ts';
import type { ContentTrustError } from '../../src/errors.ts';
import { assertCode } from './helpers/errors.ts';

const invalid = (message: RegExp) => (e: ContentTrustError) => e.code === 'INPUT_INVALID' && message.test(e.message);

describe("parseArgs (the CLI's command line)", () => {
  it('flags before or after the command words, as notary users type them', () => {
    for (const argv of [
      ['--server', 'https://n.example', 'init', 'r'],
      ['init', '--server', 'https://n.example', 'r'],
      ['init', 'r', '--server=https://n.example'],
    ]) {
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
    assertCode(() => parseArgs(['verify', '--sigenr', 'ci', 'x:1']), 'INPUT_INVALID', /^unknown flag "--sigenr": see `content-trust --help`$/);
    assertCode(() => parseArgs(['verify', '--password=hunter2']), 'INPUT_INVALID', /^unknown flag "--password": /);
    assertCode(() => parseArgs(['-s', 'https://n.example', 'init', 'r']), 'INPUT_INVALID', /^unknown flag "-s"/);
    assertCode(() => parseArgs(['--constructor']), 'INPUT_INVALID', /^unknown flag "--constructor"/);
  });

  it('a missing value is an error naming the flag: at the end, empty, or followed by another flag', () => {
    for (const argv of [
      ['init', 'r', '--server'],
      ['init', 'r', '--server='],
      ['--server', '--debug', 'init', 'r'],
    ]) {
      assert.throws(() => parseArgs(argv), invalid(/^--server needs a value/), argv.join(' '));
    }
  });

  it('a value given to a switch, and a flag given twice, are errors naming it', () => {
    assertCode(() => parseArgs(['verify', '--json=yes', 'x:1']), 'INPUT_INVALID', /^--json takes no value/);
    assertCode(() => parseArgs(['verify', '--signer', 'a', '--signer', 'b', 'x:1']), 'INPUT_INVALID', /^--signer is given twice/);
  });

  it('--manifests may be given several times: its values are kept, one per line', () => {
    const args = parseArgs(['verify', '--manifests', 'k8s/*.yaml', '--pin', '--manifests=compose.yaml,ci.yml']);
    assert.equal(args.flags.get('manifests'), 'k8s/*.yaml\ncompose.yaml,ci.yml');
    assert.equal(args.flags.get('pin'), true);
    assertCode(() => parseArgs(['verify', '--pin', '--pin']), 'INPUT_INVALID', /^--pin is given twice/);
  });

  it('a value may start with a single dash (--within -1 reaches the command, which refuses it by name)', () => {
    assert.equal(parseArgs(['refresh', 'r', '--within', '-1']).flags.get('within'), '-1');
  });
});
