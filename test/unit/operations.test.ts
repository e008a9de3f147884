import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasTag, isMode, MODES } from '../../src/operations.ts';

describe('operations table', () => {
  it('hasTag: a tag written in the reference, not one the parser assumes (a registry port is not a tag)', () => {
    for (const r of ['alpine:3', 'reg.example.com:5000/org/app:v1', ' ghcr.io/o/a:v1@sha256:' + 'a'.repeat(64)]) assert.equal(hasTag(r), true, r);
    for (const r of ['alpine', 'reg.example.com:5000/org/app', 'ghcr.io/o/a@sha256:' + 'a'.repeat(64)]) assert.equal(hasTag(r), false, r);
  });

  it("the modes are the action's mode input values, sign and verify first", () => {
    assert.deepEqual(MODES, ['sign', 'verify', 'init', 'add-signer', 'remove-signer', 'revoke', 'refresh', 'rotate', 'status']);
    assert.equal(isMode('constructor'), false);
    assert.equal(isMode('Sign'), false);
  });
});
