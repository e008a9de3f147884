/** src/action/log-batch.ts: the action's stdout lines held briefly and written together, in order. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { batchStdout } from '../../src/action/log-batch.ts';

/** A stream that records each system-call-sized write: one entry per _write or _writev. */
function recorder(): { stream: NodeJS.WriteStream; writes: string[][] } {
  const writes: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      writes.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await sleep(10);
}

describe('batchStdout', () => {
  it('holds the lines written in a burst and writes them together, in order', async () => {
    const { stream, writes } = recorder();
    batchStdout(stream);
    for (let i = 0; i < 5; i++) stream.write(`line ${i}\n`);
    assert.deepEqual(writes, [], 'nothing is written at once');
    await until(() => writes.length > 0);
    assert.deepEqual(writes, [['line 0\n', 'line 1\n', 'line 2\n', 'line 3\n', 'line 4\n']]);
  });

  it('keeps writing later bursts, each after the earlier ones', async () => {
    const { stream, writes } = recorder();
    batchStdout(stream);
    stream.write('a\n');
    await until(() => writes.length > 0);
    stream.write('b\n');
    stream.write('c\n');
    await until(() => writes.length > 1);
    assert.deepEqual(writes.flat(), ['a\n', 'b\n', 'c\n']);
  });

  it('writes what it holds when the process is about to exit (beforeExit)', () => {
    const { stream, writes } = recorder();
    batchStdout(stream);
    stream.write('last\n');
    process.emit('beforeExit', 0);
    assert.deepEqual(writes.flat(), ['last\n']);
    stream.write('after\n');
    assert.deepEqual(writes.flat(), ['last\n', 'after\n'], 'released: later writes go straight out');
  });
});
