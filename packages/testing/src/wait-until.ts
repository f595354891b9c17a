/**
 * Polls `predicate` every `intervalMs` until it returns true; rejects after `timeoutMs`.
 * A predicate that throws is treated as "not yet" so flaky probes (a refused
 * connection, a 503) can be polled directly; the last error is reported on timeout.
 */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
  description = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`waitUntil: ${description} not met within ${timeoutMs} ms${cause}`, {
        cause: lastError,
      });
    }
    await sleep(intervalMs);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
