/**
 * A small typed event emitter that runs in browsers and Node alike (no
 * dependency on Node's `events`). Listeners may return a promise; `emitSerial`
 * awaits each in registration order, which is how event handlers gate the
 * position and the ack.
 */

export type Listener<T> = (payload: T) => void | Promise<void>;

export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener synchronously; a rejected promise or a throw goes to the error hook. */
  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        const result = (listener as Listener<Events[K]>)(payload);
        if (isPromise(result)) {
          result.catch((error: unknown) => this.onListenerError(error, String(event)));
        }
      } catch (error) {
        this.onListenerError(error, String(event));
      }
    }
  }

  /** Called when a listener of `emit` throws or rejects; `emit` itself never throws. */
  protected onListenerError(_error: unknown, _event: string): void {}

  /**
   * Calls the listeners one after the other, awaiting each. Resolves with the
   * first error a listener raised (after all of them ran), or undefined.
   */
  protected async emitSerial<K extends keyof Events>(
    event: K,
    payload: Events[K],
  ): Promise<unknown> {
    const set = this.#listeners.get(event);
    if (set === undefined) return undefined;
    let firstError: unknown;
    let failed = false;
    for (const listener of [...set]) {
      try {
        const result = (listener as Listener<Events[K]>)(payload);
        if (isPromise(result)) await result;
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
        }
      }
    }
    return failed ? (firstError ?? new Error('listener failed')) : undefined;
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
