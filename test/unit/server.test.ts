import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AuthClient } from '../../src/http/auth.ts';
import { NotaryRepoClient } from '../../src/notary/server.ts';

/** An AuthClient that answers every GET with `body` and counts the requests. */
function stubClient(body: Buffer): { client: AuthClient; gets: string[] } {
  const gets: string[] = [];
  const client = {
    async send(url: string, init: { method?: string } = {}) {
      if ((init.method ?? 'GET') !== 'GET') return { status: 201, headers: {}, body: Buffer.alloc(0), url };
      gets.push(url);
      return { status: 200, headers: {}, body, url };
    },
  };
  return { client: client as unknown as AuthClient, gets };
}

const SERVER = 'https://notary.test';
const GUN = 'registry.test/app';
const fail = () => {
  throw new Error('rejected by the check');
};

describe('NotaryRepoClient.byChecksum', () => {
  const body = Buffer.from('{"signed":{}}');
  const sha = createHash('sha256').update(body).digest('hex');

  it('keeps a body that passed the check: the same checksum is not fetched or checked again', async () => {
    const { client, gets } = stubClient(body);
    let checks = 0;
    const count = () => void checks++;
    assert.deepEqual(await new NotaryRepoClient(client, SERVER, GUN, undefined, false).byChecksum('targets', sha, body.length, count), body);
    assert.deepEqual(await new NotaryRepoClient(client, SERVER, GUN, undefined, false).byChecksum('targets', sha, body.length, fail), body);
    assert.equal(gets.length, 1);
    assert.equal(checks, 1);
  });

  it('keeps nothing the check rejected: the next request fetches again', async () => {
    const { client, gets } = stubClient(body);
    const repo = new NotaryRepoClient(client, SERVER, GUN, undefined, false);
    await assert.rejects(repo.byChecksum('targets', sha, body.length, fail), /rejected by the check/);
    assert.deepEqual(await repo.byChecksum('targets', sha, body.length, () => {}), body);
    assert.equal(gets.length, 2);
  });

  it('a published file is not fetched back by its checksum', async () => {
    const { client, gets } = stubClient(Buffer.alloc(0));
    const repo = new NotaryRepoClient(client, SERVER, GUN, undefined, true);
    await repo.publish(new Map([['targets/releases', body]]));
    assert.deepEqual(await repo.byChecksum('targets/releases', sha, body.length, fail), body);
    assert.deepEqual(gets, []);
  });
});
