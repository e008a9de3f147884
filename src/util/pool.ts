/** Maps with at most `limit` calls in flight; results keep input order; rejects with the first failure. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  return Promise.all(startLimited(items, limit, fn));
}

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Like mapLimit, but runs every item and returns each outcome. */
export async function settleLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<Outcome<R>[]> {
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

/**
 * Starts fn on every item, at most `limit` at a time, in input order; one
 * promise per item that settles as soon as that item is done (a rejection
 * left unhandled by the caller is not reported as unhandled).
 */
export function startLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R>[] {
  const deferred = items.map(() => Promise.withResolvers<R>());
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        deferred[i]!.resolve(await fn(items[i]!, i));
      } catch (e) {
        deferred[i]!.reject(e);
      }
    }
  };
  // At least one worker: a limit of 0 or NaN would otherwise never call fn.
  const workers = Math.min(limit >= 1 ? Math.floor(limit) : 1, items.length);
  for (let w = 0; w < workers; w++) void worker();
  return deferred.map(({ promise }) => {
    promise.catch(() => {});
    return promise;
  });
}
