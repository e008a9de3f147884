// HTTP/2 against HTTP/1.1 keep-alive, to decide whether the client should
// offer h2 (src/http/client.ts ALLOW_H2). notary-server offers no ALPN;
// docker-registry offers h2. Times N manifest HEADs (verify's registry
// check) through the product's HttpClient, 8 at a time as verify asks them,
// a fresh client per round, rounds alternating, median of 7 after a warm-up:
// wall time and this process's CPU time (user + system), and the registry's
// CPU time.   node scripts/bench/h2.ts [N] [METHOD]
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { startStack, pushImage } from '../../test/stack/index.ts';
import { HttpClient } from '../../src/http/client.ts';
import { MANIFEST_ACCEPT } from '../../src/registry/manifest-body.ts';
import { median } from './measure.ts';

const N = Number(process.argv[2] ?? 2000);
const METHOD = (process.argv[3] ?? 'HEAD') as 'HEAD' | 'GET';
const stack = await startStack();
const cpuOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(stat[11]) + Number(stat[12])) * 10;
};
try {
  await pushImage(stack, 'bench/h2:v1');
  const url = `${stack.registry.url}/v2/bench/h2/manifests/v1`;
  async function round(allowH2: boolean): Promise<{ ms: number; cpu: number; registry: number }> {
    const client = new HttpClient({ ca: stack.ca.caPem, allowH2, env: {} });
    const registry = cpuOf(stack.registry.pid);
    const cpu = process.cpuUsage();
    const t = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < N) {
        next++;
        const r = await client.send(url, { method: METHOD, headers: { accept: MANIFEST_ACCEPT } });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const ms = performance.now() - t;
    const used = process.cpuUsage(cpu);
    client.close();
    return { ms, cpu: (used.user + used.system) / 1000, registry: cpuOf(stack.registry.pid) - registry };
  }
  // What the registry picks from undici's offer (http/1.1 first, then h2).
  const u = new URL(stack.registry.url);
  const picked = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), ca: stack.ca.caPem, ALPNProtocols: ['http/1.1', 'h2'] }, () => (resolve(String(s.alpnProtocol)), s.destroy()));
    s.on('error', reject);
  });
  console.log(`docker-registry picks ${picked} when offered http/1.1 and h2`);
  const res = { h1: [] as { ms: number; cpu: number; registry: number }[], h2: [] as { ms: number; cpu: number; registry: number }[] };
  for (let i = 0; i <= 7; i++) {
    for (const h2 of i % 2 ? [false, true] : [true, false]) {
      const r = await round(h2);
      if (i > 0) res[h2 ? 'h2' : 'h1'].push(r);
    }
  }
  const m = (a: { ms: number; cpu: number; registry: number }[], k: 'ms' | 'cpu' | 'registry') => median(a.map((r) => r[k])).toFixed(0);
  for (const [name, a] of Object.entries(res))
    console.log(`registry manifest ${METHOD}s x${N}, 8 at a time, ${name === 'h1' ? 'HTTP/1.1 keep-alive' : 'HTTP/2'}: wall ${m(a, 'ms')} ms, client CPU ${m(a, 'cpu')} ms, registry CPU ${m(a, 'registry')} ms (medians of ${a.length})`);
} finally {
  await stack.stop();
}
