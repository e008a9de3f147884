import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { narrowPaths, pathAllowed, signerNames, trustedRole } from '../../src/notary/model.ts';
import { GUN, loadRepo } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

describe('narrowPaths', () => {
  const table: [string[], string[], string[]][] = [
    [[''], ['v', 'release-'], ['v', 'release-']],
    [[''], [''], ['']],
    [['v'], ['v1', 'x', 'v'], ['v1', 'v']],
    [['v1'], ['v'], []],
    [
      ['a', 'b'],
      ['b/c', 'a', 'c'],
      ['b/c', 'a'],
    ],
    [['v'], [], []],
    [[], ['', 'v'], []],
  ];
  for (const [parent, child, want] of table) {
    it(`${JSON.stringify(parent)} narrows ${JSON.stringify(child)} to ${JSON.stringify(want)}`, () => assert.deepEqual(narrowPaths(parent, child), want));
  }
});

describe('pathAllowed', () => {
  const table: [string[], string, boolean][] = [
    [[''], 'anything', true],
    [[''], '', true],
    [['v'], 'v1.0', true],
    [['v'], 'latest', false],
    [['v1', 'latest'], 'latest', true],
    [['V'], 'v1', false],
    [[], 'v1', false],
    [['v1.0'], 'v1', false],
  ];
  for (const [paths, target, want] of table) {
    it(`${JSON.stringify(paths)} ${want ? 'allows' : 'does not allow'} ${JSON.stringify(target)}`, () => assert.equal(pathAllowed(paths, target), want));
  }
});

describe('trustedRole', () => {
  it('a delegation key listed under an ID it does not hash to is KEY_ID_MISMATCH', async () => {
    const targets = (await loadRepo()).roles.get('targets')!.meta;
    const signed = structuredClone(targets.signed);
    const [id, key] = Object.entries(signed.delegations.keys)[0]!;
    signed.delegations.keys = { [`${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`]: key };
    assertCode(() => trustedRole(GUN, { ...targets, signed }, ['']), 'KEY_ID_MISMATCH', /targets\.json delegations/);
  });
});

describe('signerNames', () => {
  it('names targets/<name> roles, leaving out releases and targets', () => {
    assert.deepEqual(signerNames(['targets', 'targets/releases', 'targets/ci', 'targets/alice']), ['ci', 'alice']);
    assert.deepEqual(signerNames([]), []);
  });
});
