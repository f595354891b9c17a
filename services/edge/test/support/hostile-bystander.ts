import type { Stack, TestWsClient } from '@agentwire/testing';
import { connectUser, ingestEvent, ingestOk, range, seqsOf, uniqueUser } from './edge-test-kit.js';

/**
 * A well-behaved client of its own user that stays connected while a test
 * attacks the edge. Every event published to it must arrive, exactly once,
 * with contiguous seqs.
 */
export class Bystander {
  private published = 0;

  private constructor(
    private readonly stack: Stack,
    readonly userId: string,
    readonly client: TestWsClient,
    private readonly edge: number,
  ) {}

  static async connect(stack: Stack, edge = 0): Promise<Bystander> {
    const userId = uniqueUser('bystander');
    const { client } = await connectUser(stack, userId, {}, edge);
    return new Bystander(stack, userId, client, edge);
  }

  /** Publishes `count` critical events (one request) without waiting for their delivery. */
  async publish(count = 1): Promise<void> {
    const events = range(1, count).map(() => ingestEvent(this.userId, { data: 'bystander' }));
    await ingestOk(this.stack, events, this.edge);
    this.published += count;
  }

  /**
   * Waits until everything published so far has arrived and fails unless the
   * seqs received are exactly 1..published and the socket is still open.
   */
  async expectAllDelivered(timeoutMs = 5000): Promise<void> {
    if (this.client.closeState) {
      throw new Error(`bystander socket closed: ${JSON.stringify(this.client.closeState)}`);
    }
    await this.client.waitForEvents(this.published, timeoutMs);
    const seqs = seqsOf(this.client);
    const expected = range(1, this.published);
    if (JSON.stringify(seqs) !== JSON.stringify(expected)) {
      throw new Error(`bystander got seqs ${seqs.join(',')}, expected 1..${this.published}`);
    }
  }

  /** Publishes one event and waits for it (and all before it). */
  async roundTrip(): Promise<void> {
    await this.publish(1);
    await this.expectAllDelivered();
  }

  /** Events published so far (the seqs expected are 1..this). */
  get count(): number {
    return this.published;
  }

  close(): Promise<unknown> {
    return this.client.close();
  }
}
