/**
 * Local connections by user id: what the inbox dispatcher looks up per
 * event. Bounded: a connection enters only after its socket opened (the
 * socket count is capped by MAX_CONNECTIONS) and leaves when it closes; a
 * user's entry is deleted with its last connection.
 *
 * A user's connections are a small array (MAX_CONNECTIONS_PER_USER is a
 * handful), replaced rather than changed on add and remove: 56 bytes for a
 * user with one connection against about 150 for a Set, and a caller's loop
 * over the array it got is not disturbed by a close in the middle of it.
 * Arrays are built with concat and slice, which size them exactly (push
 * would reserve 17 slots).
 */
export class ConnectionRegistry<C> {
  private readonly byUser = new Map<string, readonly C[]>();
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
    const list = this.byUser.get(userId);
    if (list === undefined) {
      this.byUser.set(userId, [conn]);
      this.count++;
      return true;
    }
    if (!list.includes(conn)) {
      this.byUser.set(userId, list.concat([conn]));
      this.count++;
    }
    return false;
  }

  /** Removes a connection; true when it was the user's last on this node. */
  remove(userId: string, conn: C): boolean {
    const list = this.byUser.get(userId);
    const at = list === undefined ? -1 : list.indexOf(conn);
    if (list === undefined || at < 0) return false;
    this.count--;
    if (list.length > 1) {
      this.byUser.set(userId, list.slice(0, at).concat(list.slice(at + 1)));
      return false;
    }
    this.byUser.delete(userId);
    return true;
  }

  /** The user's connections; undefined when none (hot path: no allocation). */
  get(userId: string): readonly C[] | undefined {
    return this.byUser.get(userId);
  }

  hasUser(userId: string): boolean {
    return this.byUser.has(userId);
  }

  /** Every user with their connections (not for hot paths). */
  entries(): IterableIterator<[string, readonly C[]]> {
    return this.byUser.entries();
  }
}
