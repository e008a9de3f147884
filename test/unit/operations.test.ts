import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMode, MODES } from '../../src/operations.ts';

describe('operations table', () => {
  it("the modes are the action's mode input values, sign and verify first", () => {
    assert.deepEqual(MODES, ['sign', 'verify', 'init', 'add-signer', 'remove-signer', 'revoke', 'refresh', 'rotate', 'status']);
    assert.equal(isMode('constructor'), false);
    assert.equal(isMode('Sign'), false);
  });
});
