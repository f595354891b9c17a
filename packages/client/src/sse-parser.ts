/** One dispatched SSE message. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * An incremental `text/event-stream` parser (the HTML standard's rules, the
 * parts a client of agentwire needs): lines end in LF, CRLF or CR; a blank
 * line dispatches; `data` lines join with LF; `:` starts a comment; `event`
 * defaults to `message`; a message without data is not dispatched. Chunks
 * may split lines anywhere. `retry` is read by EventSource itself; the SDK
 * schedules its own reconnects, so it is ignored here.
 */
export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  /** A CR ended the last chunk: an LF starting the next one belongs to it. */
  #pendingCr = false;

  constructor(private readonly onMessage: (message: SseMessage) => void) {}

  feed(chunk: string): void {
    let text = chunk;
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = false;
    let buffer = this.#buffer + text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (match === null) break;
      if (match[0] === '\r' && match.index === buffer.length - 1) {
        this.#pendingCr = true;
      }
      this.#line(buffer.slice(0, match.index));
      buffer = buffer.slice(match.index + match[0].length);
    }
    this.#buffer = buffer;
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }

  #dispatch(): void {
    const data = this.#data;
    const event = this.#event === '' ? 'message' : this.#event;
    this.#data = [];
    this.#event = '';
    if (data.length === 0) return;
    this.onMessage({ event, data: data.join('\n'), id: this.#id });
  }
}
