/**
 * Runs `cleanup` once on SIGINT or SIGTERM, or when `capMs` passes, then
 * exits. Node's default SIGINT handling skips 'exit' handlers, which is where
 * the fixtures kill redis-server and the services: without this, Ctrl-C would
 * leave them running. Returns a function that removes the guard.
 */
export function guardProcess(cleanup: () => Promise<void>, capMs: number): () => void {
  let done = false;
  const finish = (message: string, code: number): void => {
    if (done) return;
    done = true;
    console.error(message);
    void cleanup().finally(() => process.exit(code));
  };
  const onSignal = (): void => finish('interrupted: stopping the stack', 130);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(
    () => finish(`run exceeded ${Math.round(capMs / 1000)} s: stopping`, 3),
    capMs,
  );
  // The cap must not keep an otherwise finished process alive.
  watchdog.unref();
  return () => {
    clearTimeout(watchdog);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
