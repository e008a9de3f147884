// A reporter for Node's test runner (scripts/test.mjs adds it beside the spec
// reporter): writes one JSON line per test file that had a failure, saying
// whether one of its failures was a stack service that ended by itself while
// the file's tests ran (test/stack/service.ts fails the teardown with "<name>
// ended while its tests ran", the program's exit and its crash report).
import { inspect } from 'node:util';

/** The words test/stack/service.ts's stopRunning puts in the error of a service that crashed. */
export const SERVICE_CRASHED = 'ended while its tests ran';

export default async function* failures(source) {
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:fail' || !event.data.file) continue;
    const file = event.data.file;
    const text = inspect(event.data.details?.error, { depth: 6 });
    const seen = files.get(file) ?? { file, serviceCrashed: false };
    seen.serviceCrashed ||= text.includes(SERVICE_CRASHED);
    files.set(file, seen);
  }
  for (const seen of files.values()) yield `${JSON.stringify(seen)}\n`;
}
