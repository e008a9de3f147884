// Seeds a repository with many tags, each a distinct manifest: one image is
// pushed with skopeo, then variants of its manifest (an annotation naming the
// tag) are PUT over one keep-alive connection pool. The blobs are shared.
import https from 'node:https';
import { createHash } from 'node:crypto';
import { getManifest, pushImage, type Stack } from './index.ts';

export interface SeededTag {
  /** "127.0.0.1:PORT/bench/app:t0001" */
  ref: string;
  tag: string;
  digest: string;
  size: number;
}

export interface SeededRepo {
  repository: string;
  gun: string;
  tags: SeededTag[];
}

export async function seedRepository(stack: Stack, repository: string, count: number, parallel = 16): Promise<SeededRepo> {
  await pushImage(stack, `${repository}:base`, { seed: repository });
  const base = await getManifest(stack, repository, 'base');
  const doc = JSON.parse(base.body.toString('utf8')) as Record<string, unknown>;
  const agent = new https.Agent({ keepAlive: true, maxSockets: parallel, ca: stack.ca.caPem });
  const tags: SeededTag[] = Array.from({ length: count }, (_, i) => {
    const tag = `t${String(i + 1).padStart(5, '0')}`;
    return { ref: `${stack.gun(repository)}:${tag}`, tag, digest: '', size: 0 };
  });
  let next = 0;
  const worker = async () => {
    while (next < tags.length) {
      const t = tags[next++]!;
      const body = Buffer.from(JSON.stringify({ ...doc, annotations: { 'org.example.bench.tag': t.tag } }));
      await put(agent, `${stack.registry.url}/v2/${repository}/manifests/${t.tag}`, base.mediaType, body);
      t.digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      t.size = body.length;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  agent.destroy();
  return { repository, gun: stack.gun(repository), tags };
}

function put(agent: https.Agent, url: string, contentType: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'PUT', agent, headers: { 'content-type': contentType, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`PUT ${url}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
