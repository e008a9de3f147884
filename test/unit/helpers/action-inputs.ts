/**
 * Each test of the calling suite starts with no action input set but
 * `inputs` (and without `alsoClear`), and stdout silenced (getInputs writes
 * ::add-mask:: and ::info lines); the environment and stdout are put back
 * after each test.
 */
import { afterEach, beforeEach } from 'node:test';

export function useActionInputs(inputs: Record<string, string>, alsoClear: readonly string[] = []): void {
  let saved: NodeJS.ProcessEnv = {};
  const write = process.stdout.write;
  beforeEach(() => {
    saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_') || alsoClear.includes(k)) delete process.env[k];
    Object.assign(process.env, inputs);
    process.stdout.write = () => true;
  });
  afterEach(() => {
    process.stdout.write = write;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
}
