/** Maps with at most `limit` calls in flight; results keep input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  // At least one worker: a limit of 0 or NaN would otherwise return holes without calling fn.
  const workers = Math.min(limit >= 1 ? Math.floor(limit) : 1, items.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}

/** Like mapLimit, but runs every item and returns each outcome. */
export async function settleLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<({ ok: true; value: R } | { ok: false; error: unknown })[]> {
  return mapLimit(items, limit, async (item) => {
    try {
      return { ok: true as const, value: await fn(item) };
    } catch (error) {
      return { ok: false as const, error };
    }
  });
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
