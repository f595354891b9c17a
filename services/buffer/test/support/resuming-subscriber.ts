import WebSocket from 'ws';

export interface ReceivedEvent {
  seq: number;
  id: string;
  at: number;
}

/**
 * A minimal client that behaves as the contract asks: reconnects within
 * 100 ms to the next edge, resumes from the last seq it processed, drops seqs
 * it already has, treats a seq jump as a gap (reconnect and resume), and acks.
 * A welcome with another epoch is a resync: what it had is dropped and the
 * replay from `oldestSeq` rebuilds it. It records what the application would
 * see, and every protocol breach.
 */
export class ResumingSubscriber {
  readonly received: ReceivedEvent[] = [];
  /** Critical seqs a single connection sent twice (the contract forbids it). */
  duplicatesOnConnection = 0;
  gapsDetected = 0;
  /** Welcomes with an epoch other than the one this subscriber held. */
  epochChanges = 0;
  /**
   * Events dropped because their seq was already taken by a different event
   * id under the same epoch: a new event lost as a "duplicate".
   */
  droppedNewEvents = 0;
  connects = 0;
  closeCodes: number[] = [];
  private lastSeq = -1;
  private epoch: string | undefined;
  private socket: WebSocket | undefined;
  private stopped = false;
  private urlIndex = 0;
  private ackTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly urls: string[],
    private readonly token: string,
    startIndex = 0,
  ) {
    this.urlIndex = startIndex;
  }

  get currentEpoch(): string | undefined {
    return this.epoch;
  }

  get position(): number {
    return this.lastSeq;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.connect(resolve));
  }

  private connect(onWelcome?: () => void): void {
    if (this.stopped) return;
    const url = this.urls[this.urlIndex % this.urls.length] as string;
    this.urlIndex++;
    const socket = new WebSocket(url);
    this.socket = socket;
    let sentOnThisConnection = -1;
    socket.on('open', () => {
      const hello: Record<string, unknown> = { type: 'hello', token: this.token };
      // First connection: replay everything retained (lastSeq 0).
      hello.lastSeq = Math.max(0, this.lastSeq);
      if (this.epoch) hello.epoch = this.epoch;
      socket.send(JSON.stringify(hello));
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame.type === 'welcome') {
        this.connects++;
        const epoch = String(frame.epoch);
        if (this.epoch !== undefined && epoch !== this.epoch) {
          this.epochChanges++;
          this.received.length = 0;
          this.lastSeq = Math.max(0, Number(frame.oldestSeq) - 1);
        }
        this.epoch = epoch;
        if (this.lastSeq < 0) this.lastSeq = 0;
        onWelcome?.();
        onWelcome = undefined;
        return;
      }
      if (frame.type !== 'event' || typeof frame.seq !== 'number') return;
      const seq = frame.seq;
      if (seq <= sentOnThisConnection) this.duplicatesOnConnection++;
      sentOnThisConnection = Math.max(sentOnThisConnection, seq);
      if (seq <= this.lastSeq) {
        const kept = this.received.find((event) => event.seq === seq);
        if (kept !== undefined && kept.id !== String(frame.id)) this.droppedNewEvents++;
        return;
      }
      if (seq > this.lastSeq + 1) {
        this.gapsDetected++;
        socket.terminate();
        return;
      }
      this.lastSeq = seq;
      this.received.push({ seq, id: String(frame.id), at: Date.now() });
    });
    socket.on('error', () => undefined);
    socket.on('close', (code) => {
      this.closeCodes.push(code);
      if (this.socket === socket) this.socket = undefined;
      if (!this.stopped) setTimeout(() => this.connect(onWelcome), 20 + Math.random() * 80);
    });
    this.ackTimer ??= setInterval(() => {
      if (this.socket?.readyState === WebSocket.OPEN && this.lastSeq > 0) {
        this.socket.send(JSON.stringify({ type: 'ack', seq: this.lastSeq }));
      }
    }, 200);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.ackTimer);
    this.socket?.terminate();
  }
}
