// HTTP/2 against HTTP/1.1 keep-alive, to decide whether the client should
// offer h2 (src/http/client.ts ALLOW_H2). notary-server offers no ALPN;
// docker-registry offers h2. Times N GETs of one manifest, 8 at a time as the
// client's pool, a fresh agent per round, rounds alternating, median of 7
// after a warm-up.   node scripts/bench/h2.ts [N]
import { connect, createSecureContext, rootCertificates } from 'node:tls';
import { startStack, pushImage } from '../../test/stack/index.ts';
import { EnvHttpProxyAgent } from '../../src/http/undici.ts';
import 'undici'; // the request() API, for this script only
const N = Number(process.argv[2] ?? 400);
const stack = await startStack();
try {
  await pushImage(stack, 'bench/h2:v1');
  const u = new URL(stack.registry.url);
  const path = `/v2/bench/h2/manifests/v1`;
  const tls = { secureContext: createSecureContext({ ca: [...rootCertificates, stack.ca.caPem] }) };
  async function round(h2: boolean): Promise<number> {
    const agent = new EnvHttpProxyAgent({ httpProxy: '', httpsProxy: '', noProxy: '', connections: 8, allowH2: h2, connect: { ...tls, allowH2: h2 } as never, requestTls: { ...tls, allowH2: h2 } as never });
    const t = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < N) {
        next++;
        const r = await agent.request({ origin: u.origin, path, method: 'GET', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
        await r.body.arrayBuffer();
        if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const ms = performance.now() - t;
    await agent.close();
    return ms;
  }
  // What the registry picks from undici's offer (http/1.1 first, then h2).
  const picked = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), ca: stack.ca.caPem, ALPNProtocols: ['http/1.1', 'h2'] }, () => (resolve(String(s.alpnProtocol)), s.destroy()));
    s.on('error', reject);
  });
  console.log(`docker-registry picks ${picked} when offered http/1.1 and h2`);
  const res: { h1: number[]; h2: number[] } = { h1: [], h2: [] };
  for (let i = 0; i <= 7; i++) {
    for (const h2 of [false, true]) {
      const ms = await round(h2);
      if (i > 0) res[h2 ? 'h2' : 'h1'].push(ms);
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  console.log(`registry manifest GETs x${N}, 8 at a time: HTTP/1.1 keep-alive median ${med(res.h1).toFixed(0)} ms, HTTP/2 median ${med(res.h2).toFixed(0)} ms`, JSON.stringify(res));
} finally {
  await stack.stop();
}
