import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

type Handler = (res: HttpResponse, req: HttpRequest) => void;

/**
 * Counts HTTP requests that have been neither answered nor aborted, so that
 * shutdown can let in-flight ingest requests finish (their events may
 * already be durable: the producer should get its 202) after the listen
 * socket closed. uWS has no per-response completion callback, so the
 * wrapper hooks `end` and `onAborted` on the response object itself; it
 * suits handlers that finish with `end` (not `tryEnd` streaming).
 */
export class RequestTracker {
  private count = 0;
  private idleWaiters: Array<() => void> = [];
  private closing = false;

  /** Requests neither answered nor aborted. */
  get inFlight(): number {
    return this.count;
  }

  /** Wraps a route handler so that its requests are counted. */
  track(handler: Handler): Handler {
    return (res, req) => {
      this.count++;
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        this.count--;
        if (this.count === 0) this.releaseIdle();
      };
      const end = res.end.bind(res);
      const onAborted = res.onAborted.bind(res);
      res.end = (body, closeConnection) => {
        settle();
        // Draining: a kept-alive client must come back through the balancer, to another node.
        return end(body, closeConnection === true || this.closing);
      };
      res.onAborted = (abortHandler) =>
        onAborted(() => {
          settle();
          abortHandler();
        });
      try {
        handler(res, req);
      } catch (error) {
        settle();
        throw error;
      }
    };
  }

  /** From now on every answer closes its connection (the node is draining). */
  closeConnections(): void {
    this.closing = true;
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private releaseIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
