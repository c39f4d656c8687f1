/**
 * Runs `task` over `items` with at most `limit` tasks in flight and yields their results in item order, so a
 * slow item holds back only the results after it. When the consumer stops early, a task fails or `signal`
 * aborts, the tasks still in flight are aborted and their outcomes ignored.
 */
export async function* inOrderBounded<T, R>(
  items: Iterable<T>,
  limit: number,
  task: (item: T, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): AsyncGenerator<R> {
  const width = Math.max(1, Math.floor(limit));
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const iterator = items[Symbol.iterator]();
  const queue: Promise<R>[] = [];
  const startNext = (): boolean => {
    const next = iterator.next();
    if (next.done) return false;
    const running = task(next.value, controller.signal);
    // A task dropped unread (early stop, earlier failure) must not surface as an unhandled rejection.
    running.catch(() => undefined);
    queue.push(running);
    return true;
  };
  try {
    signal?.throwIfAborted();
    while (queue.length < width && startNext());
    while (queue.length > 0) {
      const result = await queue.shift()!;
      signal?.throwIfAborted();
      startNext();
      yield result;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (queue.length > 0) controller.abort(new Error('Listing stopped'));
  }
}
