import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envelope, goTime, type Signer } from '../../src/tuf/go-encoding.ts';
import { ROLES, delegationKey, fixtureBytes } from './helpers/fixtures.ts';

describe('envelope', () => {
  for (const role of ROLES) {
    it(`reproduces the server's ${role}.json byte for byte (given its signature)`, () => {
      const raw = fixtureBytes(role);
      const doc = JSON.parse(raw.toString('utf8'));
      const s = doc.signatures[0];
      const stub: Signer = { sign: () => ({ method: s.method, sig: Buffer.from(s.sig, 'base64') }) };
      assert.deepEqual(envelope(doc.signed, stub, [s.keyid]), raw);
    });
  }

  it('lists one signature per key ID, all by the one key', () => {
    const out = JSON.parse(envelope({ _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: '2030-01-01T00:00:00Z', targets: {}, version: 1 }, delegationKey(), ['a', 'b']).toString());
    assert.deepEqual(
      out.signatures.map((s: { keyid: string }) => s.keyid),
      ['a', 'b'],
    );
    assert.equal(out.signatures[0].sig, out.signatures[1].sig);
  });
});

describe('goTime', () => {
  const table: [string, string][] = [
    ['2029-11-24T09:03:20.150Z', '2029-11-24T09:03:20.15Z'],
    ['2029-11-24T09:03:20.100Z', '2029-11-24T09:03:20.1Z'],
    ['2029-11-24T09:03:20.000Z', '2029-11-24T09:03:20Z'],
    ['2029-11-24T09:03:00.000Z', '2029-11-24T09:03:00Z'],
    ['2029-11-24T09:03:20.123Z', '2029-11-24T09:03:20.123Z'],
  ];
  for (const [iso, go] of table) it(`${iso} → ${go}`, () => assert.equal(goTime(new Date(iso)), go));
});
