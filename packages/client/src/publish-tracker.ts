/** What `publish()` resolves with once the server answered `accepted`. */
export interface PublishResult {
  id: string;
}

export interface PublishOptions {
  /** Thread the message belongs to; agent workers route on it. */
  threadId?: string;
  /**
   * Idempotency key. Generated when absent. Reusing the id of a publish that
   * is still unsettled returns that publish's promise.
   */
  id?: string;
}

interface PendingPublish {
  /** The serialized frame, re-sent as is (same id) after every reconnect. */
  readonly text: string;
  readonly promise: Promise<PublishResult>;
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Publishes that have no answer yet, in the order they were made. They stay
 * here across reconnects until `accepted` or `error` with their id arrives.
 */
export class PublishTracker {
  readonly #pending = new Map<string, PendingPublish>();

  get size(): number {
    return this.#pending.size;
  }

  existing(id: string): Promise<PublishResult> | undefined {
    return this.#pending.get(id)?.promise;
  }

  add(id: string, text: string): Promise<PublishResult> {
    let resolve!: (result: PublishResult) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<PublishResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#pending.set(id, { text, promise, resolve, reject });
    return promise;
  }

  /** The serialized frames of every unsettled publish, oldest first. */
  texts(): string[] {
    return [...this.#pending.values()].map((p) => p.text);
  }

  resolve(id: string): boolean {
    const entry = this.#pending.get(id);
    if (entry === undefined) return false;
    this.#pending.delete(id);
    entry.resolve({ id });
    return true;
  }

  reject(id: string, error: Error): boolean {
    const entry = this.#pending.get(id);
    if (entry === undefined) return false;
    this.#pending.delete(id);
    entry.reject(error);
    return true;
  }

  rejectAll(error: Error): void {
    const entries = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of entries) entry.reject(error);
  }
}
