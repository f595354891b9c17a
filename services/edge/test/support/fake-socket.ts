import type { WireSocket } from '../../src/ws/connection.js';

/** A uWS socket stand-in: records sends, simulates buffered bytes, closes synchronously. */
export class FakeSocket implements WireSocket {
  sent: string[] = [];
  buffered = 0;
  sendStatus = 1;
  closed: { code: number; reason: string } | undefined;
  onEnd: (() => void) | undefined;
  corks = 0;
  /** A reader that takes nothing: every send stays buffered. */
  stalled = false;

  send(message: string): number {
    if (this.closed) throw new Error('send on a closed socket');
    this.sent.push(message);
    if (this.stalled) this.buffered += message.length;
    return this.sendStatus;
  }
  getBufferedAmount(): number {
    if (this.closed) throw new Error('getBufferedAmount on a closed socket');
    return this.buffered;
  }
  end(code?: number, reason?: string): void {
    this.closed = { code: code ?? 0, reason: reason ?? '' };
    this.onEnd?.();
  }
  cork(cb: () => void): void {
    this.corks++;
    cb();
  }
}
