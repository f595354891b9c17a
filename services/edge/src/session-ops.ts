/**
 * Route changes (openSession, closeSession) this node has sent to Redis and
 * not yet seen answered, counted per user. While a user has one in flight
 * this node cannot know the user's route count in Redis, so the route
 * reconciler leaves that user alone. Entries are removed at zero: the map
 * holds only users with a Redis call in flight.
 */
export class SessionOps {
  private readonly pending = new Map<string, number>();

  begin(userId: string): void {
    this.pending.set(userId, (this.pending.get(userId) ?? 0) + 1);
  }

  end(userId: string): void {
    const left = (this.pending.get(userId) ?? 1) - 1;
    if (left <= 0) this.pending.delete(userId);
    else this.pending.set(userId, left);
  }

  has(userId: string): boolean {
    return this.pending.has(userId);
  }

  /** Runs `op` counted as in flight for `userId`. */
  async track<T>(userId: string, op: () => Promise<T>): Promise<T> {
    this.begin(userId);
    try {
      return await op();
    } finally {
      this.end(userId);
    }
  }
}
