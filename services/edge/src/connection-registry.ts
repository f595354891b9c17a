/**
 * Local connections by user id: what the inbox dispatcher looks up per
 * event. Bounded: a connection enters only after its socket opened (the
 * socket count is capped by MAX_CONNECTIONS) and leaves when it closes; a
 * user's entry is deleted with its last connection.
 */
export class ConnectionRegistry<C> {
  private readonly byUser = new Map<string, Set<C>>();
  private count = 0;

  /** Connections registered. */
  get size(): number {
    return this.count;
  }

  /** Users with at least one connection. */
  get users(): number {
    return this.byUser.size;
  }

  /** Adds a connection; true when it is the user's first on this node. */
  add(userId: string, conn: C): boolean {
    let set = this.byUser.get(userId);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.byUser.set(userId, set);
    }
    if (!set.has(conn)) {
      set.add(conn);
      this.count++;
    }
    return first;
  }

  /** Removes a connection; true when it was the user's last on this node. */
  remove(userId: string, conn: C): boolean {
    const set = this.byUser.get(userId);
    if (set === undefined || !set.delete(conn)) return false;
    this.count--;
    if (set.size > 0) return false;
    this.byUser.delete(userId);
    return true;
  }

  /** The user's connections; undefined when none (hot path: no allocation). */
  get(userId: string): ReadonlySet<C> | undefined {
    return this.byUser.get(userId);
  }

  hasUser(userId: string): boolean {
    return this.byUser.has(userId);
  }

  /** Every user with their connections (not for hot paths). */
  entries(): IterableIterator<[string, ReadonlySet<C>]> {
    return this.byUser.entries();
  }
}
