/** Reads the policy file named by the `policy` input, relative to the workspace. */
import { open } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { InputError, messageOf } from '../errors.ts';
import { MAX_POLICY_BYTES, parsePolicy, type Policy } from './policy.ts';

export async function loadPolicy(path: string, baseDir: string): Promise<Policy> {
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  let bytes: Buffer;
  try {
    bytes = await readAtMost(full, MAX_POLICY_BYTES + 1);
  } catch (e) {
    throw new InputError('POLICY_INVALID', `policy ${path}: cannot read ${full} (${messageOf(e)}): check the path (relative to the repository root) and that actions/checkout ran before this step`, { cause: e });
  }
  // One byte past the cap is enough for parsePolicy to refuse the file by its size.
  return parsePolicy(bytes, path);
}

/** The first `max` bytes of a file: a huge file, or a device that never ends, is not read whole. */
async function readAtMost(file: string, max: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(max);
    let filled = 0;
    while (filled < max) {
      const { bytesRead } = await handle.read(buffer, filled, max - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
