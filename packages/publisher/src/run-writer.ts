import { Limits, type IngestEvent, type JsonValue } from '@agentwire/protocol';
import { PublishRejectedError, RunClosedError } from './publisher-errors.js';
import {
  MAX_RUN_ID_PREFIX_LENGTH,
  defaultRunIdPrefix,
  runEventIds,
  type RunEventIds,
} from './run-event-ids.js';
import { isHighSurrogate, utf8PrefixLength } from './utf8-prefix.js';

/** What a RunWriter publishes through: HttpPublisher, or a fake in tests. */
export interface RunTransport {
  /** Resolves once the service holds every event of the batch; retries are its business. */
  publish(events: readonly IngestEvent[], options?: { signal?: AbortSignal }): Promise<unknown>;
}

export interface RunOptions {
  userId: string;
  runId: string;
  /** Put on every event of the run. @default unset */
  threadId?: string;
  /** Name of the append events. @default 'token' */
  appendName?: string;
  /**
   * How long appends are gathered before they are published: appends to one
   * stream in a row become one append event, and everything gathered goes in
   * one POST. A start, event, end or error is published at once, after the
   * appends before it. While a POST is in flight, appends keep gathering.
   * @default 25
   */
  batchMs?: number;
  /**
   * Most UTF-8 bytes of text in one append event; longer text is split. The
   * default keeps any text, JSON-escaped, within the default MAX_EVENT_BYTES.
   * @default 8192
   */
  maxAppendBytes?: number;
  /** Gathered text that is published without waiting for the rest of `batchMs`. @default 65536 */
  maxBatchBytes?: number;
  /**
   * Prefix of the event ids (1-40 characters). One writer per prefix: a second
   * writer of the same run needs another one, or its events are taken for
   * repeats of the first one's and dropped.
   * @default the runId, or a hash of it when longer than 40 characters
   */
  idPrefix?: string;
  /** Aborting it ends any publish in flight; the writer then fails with the AbortError. */
  signal?: AbortSignal;
}

export interface RunEventOptions {
  /** @default the service's configured list of critical names decides */
  critical?: boolean;
  /** @default `<idPrefix>:#<n>`, n counting the run's events from 1 */
  id?: string;
}

const DEFAULT_BATCH_MS = 25;
const DEFAULT_MAX_APPEND_BYTES = 8192;
const DEFAULT_MAX_BATCH_BYTES = 65536;
/** With the u flag a surrogate class matches only unpaired surrogates. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

type AppendEvent = IngestEvent & { stream: string; append: string };

/**
 * Writes one agent run (protocol.md section 9): `start`, text appended to
 * named streams, other events, then `end` or `error`.
 *
 * Events are published in the order they were written, one POST at a time,
 * so the service sees them in that order. A batch is immutable once handed to
 * the transport: a retry (the transport's own, or the next `flush()` after a
 * failed one) sends the same events with the same ids, and the service keeps
 * each once. `text(stream)` is then exactly the text the service keeps.
 */
export class RunWriter {
  readonly userId: string;
  readonly runId: string;
  readonly #transport: RunTransport;
  readonly #threadId: string | undefined;
  readonly #appendName: string;
  readonly #batchMs: number;
  readonly #maxAppendBytes: number;
  readonly #maxBatchBytes: number;
  readonly #signal: AbortSignal | undefined;
  readonly #ids: RunEventIds;

  /** The window being gathered; its last append event may still grow. */
  #open: IngestEvent[] = [];
  #openBytes = 0;
  /** UTF-8 bytes of the last open event's `append`, when it is an append. */
  #lastAppendBytes = 0;
  /** Sealed batches, oldest first; the head is the one being sent. */
  readonly #queue: IngestEvent[][] = [];
  #sealedCount = 0;
  #ackedCount = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The window's time is up but a POST was in flight: seal when it is done. */
  #due = false;
  #pumping: Promise<void> | undefined;
  /** A failure no retry can fix (refused batch, abort): every later call throws it. */
  #failure: Error | undefined;

  #started = false;
  #ended = false;
  #eventCount = 0;
  readonly #texts = new Map<string, string>();
  readonly #appendCounts = new Map<string, number>();
  /** A high surrogate that ended a stream's last append, waiting for its low half. */
  readonly #held = new Map<string, string>();

  constructor(transport: RunTransport, options: RunOptions) {
    this.#transport = transport;
    this.userId = options.userId;
    this.runId = options.runId;
    this.#threadId = options.threadId;
    this.#appendName = options.appendName ?? 'token';
    this.#batchMs = options.batchMs ?? DEFAULT_BATCH_MS;
    this.#maxAppendBytes = options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES;
    this.#maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.#signal = options.signal;
    const prefix = options.idPrefix ?? defaultRunIdPrefix(options.runId);
    if (prefix.length < 1 || prefix.length > MAX_RUN_ID_PREFIX_LENGTH) {
      throw new RangeError(`idPrefix must be 1 to ${MAX_RUN_ID_PREFIX_LENGTH} characters`);
    }
    // 4 bytes: room for any one code point, so a split always makes progress.
    if (!(this.#maxAppendBytes >= 4)) throw new RangeError('maxAppendBytes must be at least 4');
    if (!(this.#batchMs >= 0)) throw new RangeError('batchMs must be 0 or more');
    this.#ids = runEventIds(prefix);
  }

  /** Publishes the critical `agent_started`, after anything written before it. */
  async start(data?: JsonValue): Promise<void> {
    if (this.#started) throw new Error(`run ${this.runId} was already started`);
    this.#assertWritable();
    this.#started = true;
    return this.#publishNow(this.#event(this.#ids.start, 'agent_started', true, data));
  }

  /**
   * Appends `text` to `stream` (default `main`). Returns at once: the text is
   * published with the current window. A high surrogate ending `text` waits
   * for the next append to the stream, so no append splits a character.
   * Throws on text that is not well-formed Unicode, and once the writer failed.
   */
  append(stream: string, text: string): void {
    this.#assertWritable();
    if (!Limits.streamNamePattern.test(stream)) {
      throw new RangeError('stream must be 1 to 64 characters of [A-Za-z0-9._:-]');
    }
    let joined = (this.#held.get(stream) ?? '') + text;
    let held = '';
    if (joined.length > 0 && isHighSurrogate(joined.charCodeAt(joined.length - 1))) {
      held = joined.slice(-1);
      joined = joined.slice(0, -1);
    }
    if (LONE_SURROGATE.test(joined)) {
      throw new TypeError('append text must be well-formed Unicode (it has a lone surrogate)');
    }
    if (held === '') this.#held.delete(stream);
    else this.#held.set(stream, held);
    if (joined === '') return;
    this.#texts.set(stream, (this.#texts.get(stream) ?? '') + joined);
    this.#gather(stream, joined);
  }

  /** Publishes any event of the run, after anything written before it. */
  async event(name: string, data?: JsonValue, options: RunEventOptions = {}): Promise<void> {
    this.#assertWritable();
    const id = options.id ?? this.#ids.event(++this.#eventCount);
    return this.#publishNow(this.#event(id, name, options.critical, data));
  }

  /** Ends the run with the critical `agent_completed`. */
  async end(data?: JsonValue): Promise<void> {
    return this.#finish(this.#ids.end, 'agent_completed', data);
  }

  /** Ends the run with the critical `agent_error`. */
  async error(data?: JsonValue): Promise<void> {
    return this.#finish(this.#ids.error, 'agent_error', data);
  }

  /**
   * Publishes everything written so far and resolves once the service holds
   * it. On a failure the unsent batches are kept: the next flush sends them
   * again, with the same ids (unless the failure is final: a refused batch or
   * an abort).
   */
  async flush(): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#seal();
    const target = this.#sealedCount;
    while (this.#ackedCount < target) await this.#pump();
  }

  /** The text appended to `stream` so far, without a held-back high surrogate. */
  text(stream: string = Limits.defaultStreamName): string {
    return this.#texts.get(stream) ?? '';
  }

  /** Every stream's text so far. */
  texts(): Record<string, string> {
    return Object.fromEntries(this.#texts);
  }

  /** Append events made for `stream` so far: the `chunk` its last one gets. */
  appendCount(stream: string = Limits.defaultStreamName): number {
    return this.#appendCounts.get(stream) ?? 0;
  }

  #finish(id: string, name: string, data: JsonValue | undefined): Promise<void> {
    this.#assertWritable();
    this.#ended = true;
    // A high surrogate still waiting can never be completed: it is not text.
    this.#held.clear();
    return this.#publishNow(this.#event(id, name, true, data));
  }

  #assertWritable(): void {
    if (this.#failure) throw this.#failure;
    if (this.#ended) throw new RunClosedError(this.runId);
  }

  #event(id: string, name: string, critical: boolean | undefined, data: JsonValue | undefined) {
    const event: IngestEvent = { id, userId: this.userId, name, runId: this.runId };
    if (critical !== undefined) event.critical = critical;
    if (this.#threadId !== undefined) event.threadId = this.#threadId;
    if (data !== undefined) event.data = data;
    return event;
  }

  #publishNow(event: IngestEvent): Promise<void> {
    if (this.#open.length >= Limits.maxBatchEvents) this.#seal();
    this.#open.push(event);
    this.#lastAppendBytes = 0;
    return this.flush();
  }

  /** Adds well-formed `text` to the open window: merged into its last event when that appends to `stream`. */
  #gather(stream: string, text: string): void {
    let rest = text;
    while (rest.length > 0) {
      let last = this.#open.at(-1) as AppendEvent | undefined;
      if (last?.stream !== stream || last.append === undefined) last = undefined;
      if (last === undefined || this.#lastAppendBytes >= this.#maxAppendBytes) {
        if (this.#open.length >= Limits.maxBatchEvents) this.#seal();
        last = this.#newAppend(stream);
      }
      const room = this.#maxAppendBytes - this.#lastAppendBytes;
      const restBytes = Buffer.byteLength(rest);
      const take = restBytes <= room ? rest.length : utf8PrefixLength(rest, room);
      if (take === 0) {
        // The next character does not fit in this event: the next one takes it.
        this.#lastAppendBytes = this.#maxAppendBytes;
        continue;
      }
      const piece = take === rest.length ? rest : rest.slice(0, take);
      const bytes = take === rest.length ? restBytes : Buffer.byteLength(piece);
      last.append += piece;
      this.#lastAppendBytes += bytes;
      this.#openBytes += bytes;
      rest = rest.slice(take);
      if (this.#openBytes >= this.#maxBatchBytes) this.#seal();
    }
    // Also after a failed send in the background: new text is what retries it.
    if (this.#queue.length > 0 || this.#due) this.#kick();
    if (this.#open.length > 0 && this.#timer === undefined && !this.#due) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#due = true;
        this.#kick();
      }, this.#batchMs);
    }
  }

  #newAppend(stream: string): AppendEvent {
    const n = (this.#appendCounts.get(stream) ?? 0) + 1;
    this.#appendCounts.set(stream, n);
    const event: AppendEvent = {
      id: this.#ids.append(stream, n),
      userId: this.userId,
      name: this.#appendName,
      runId: this.runId,
      stream,
      append: '',
    };
    if (this.#threadId !== undefined) event.threadId = this.#threadId;
    this.#open.push(event);
    this.#lastAppendBytes = 0;
    return event;
  }

  /** Closes the open window into a batch: from here on it is sent exactly as it is. */
  #seal(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = false;
    if (this.#open.length === 0) return;
    this.#queue.push(this.#open);
    this.#sealedCount++;
    this.#open = [];
    this.#openBytes = 0;
    this.#lastAppendBytes = 0;
  }

  /** Sends in the background; a failure there is seen by the next flush, which retries. */
  #kick(): void {
    if (this.#pumping === undefined && this.#failure === undefined) {
      this.#pump().catch(() => undefined);
    }
  }

  /** The one sender: batches go out one at a time, oldest first. */
  #pump(): Promise<void> {
    this.#pumping ??= this.#sendQueued().finally(() => {
      this.#pumping = undefined;
    });
    return this.#pumping;
  }

  async #sendQueued(): Promise<void> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      if (this.#queue.length === 0 && this.#due) this.#seal();
      const batch = this.#queue[0];
      if (batch === undefined) return;
      try {
        await this.#transport.publish(batch, { signal: this.#signal });
      } catch (error) {
        if (error instanceof PublishRejectedError || this.#signal?.aborted) {
          this.#failure = error instanceof Error ? error : new Error(String(error));
        }
        throw error;
      }
      this.#queue.shift();
      this.#ackedCount++;
    }
  }
}
