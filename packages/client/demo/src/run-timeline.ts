import type { EventFrame, RunStatus, RunView } from '../../src/index.js';

const NO_RUN = '(no run)';

/** Streams the demo agent writes, shown in this order; any other stream follows them. */
const THINKING = 'thinking';
const ANSWER = 'answer';

interface RunCard {
  root: HTMLElement;
  status: HTMLElement;
  timeline: HTMLOListElement;
  /** A run's text streams by name: `thinking` muted, `answer` as the answer. */
  texts: HTMLElement;
  streams: Map<string, HTMLElement>;
  /** Token deltas in `data.text` (events without `append`), shown as they arrive. */
  stream: HTMLElement;
}

const STATUS_LABELS: Readonly<Record<RunStatus, string>> = {
  running: 'running',
  ended: 'ended',
  stalled: 'stalled: no event for a while',
  unknown: 'not retained',
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function summarize(data: unknown): string {
  if (data === undefined || data === null) return '';
  if (typeof data === 'object' && !Array.isArray(data)) {
    return Object.entries(data as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ')
      .slice(0, 160);
  }
  return JSON.stringify(data).slice(0, 160);
}

function timeOf(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour12: false });
}

/**
 * Renders one card per run, newest run on top: the run's status from the
 * client's run store, its critical events as a timeline, and its text
 * streams (muted thinking, then the answer) as the run store grows them,
 * restored from snapshots after a drop or a reload. Text only goes through
 * textContent: event data is untrusted.
 */
export class RunTimeline {
  readonly #container: HTMLElement;
  readonly #empty: HTMLElement | null;
  readonly #count: HTMLElement | null;
  readonly #runs = new Map<string, RunCard>();
  #currentRun: string | undefined;

  constructor(container: HTMLElement, empty: HTMLElement | null, count: HTMLElement | null) {
    this.#container = container;
    this.#empty = empty;
    this.#count = count;
  }

  addCritical(event: EventFrame): void {
    const runId = event.runId ?? NO_RUN;
    const run = this.#run(runId);
    this.#currentRun = runId;
    const item = el('li');
    item.dataset.testid = 'timeline-event';
    item.dataset.seq = String(event.seq);
    const name = el('span', 'event-name', event.name);
    name.dataset.name = event.name;
    item.append(
      el('span', 'seq', `#${event.seq}`),
      name,
      el('span', 'event-data', summarize(event.data)),
      el('span', 'event-time', timeOf(event.ts)),
    );
    run.timeline.append(item);
  }

  /** The run store's view of a run changed: status and text streams. */
  renderRun(view: RunView): void {
    const card = this.#run(view.runId);
    card.status.textContent = STATUS_LABELS[view.status];
    card.status.dataset.status = view.status;
    card.root.dataset.status = view.status;
    card.root.dataset.syncing = String(view.syncing);
    for (const [name, stream] of Object.entries(view.streams)) {
      const node = this.#streamNode(card, name);
      // Whole text each time: a snapshot may replace it, not only extend it.
      if (node.textContent !== stream.text) node.textContent = stream.text;
      node.dataset.truncated = String(stream.truncated);
    }
    for (const [name, node] of card.streams) {
      if (!Object.hasOwn(view.streams, name)) node.textContent = '';
    }
  }

  /** A `token` delta in `data.text`: appended to its run, or to the run seen last when it names none. */
  addToken(event: EventFrame): void {
    const data = event.data as { text?: unknown } | undefined;
    if (typeof data?.text !== 'string') return;
    const runId = event.runId ?? this.#currentRun ?? NO_RUN;
    this.#run(runId).stream.append(data.text);
  }

  /** The application's state came back from nowhere (resync): start the view afresh. */
  clear(): void {
    for (const run of this.#runs.values()) run.root.remove();
    this.#runs.clear();
    this.#currentRun = undefined;
    this.#updateCount();
  }

  #run(runId: string): RunCard {
    const existing = this.#runs.get(runId);
    if (existing !== undefined) return existing;
    const root = el('article', 'run');
    root.dataset.testid = 'run';
    root.dataset.runId = runId;
    const head = el('div', 'run-head');
    const status = el('span', 'run-status', 'running');
    status.dataset.status = 'running';
    head.append(el('span', 'run-id mono', runId), status);
    const timeline = el('ol', 'timeline');
    status.dataset.testid = 'run-status';
    const texts = el('div', 'texts');
    const stream = el('p', 'stream');
    stream.dataset.testid = 'run-stream';
    root.append(head, timeline, texts, stream);
    this.#container.prepend(root);
    const card = { root, status, timeline, texts, streams: new Map<string, HTMLElement>(), stream };
    this.#runs.set(runId, card);
    this.#updateCount();
    return card;
  }

  /** The element of one text stream, created in reading order: thinking, answer, others. */
  #streamNode(card: RunCard, name: string): HTMLElement {
    const existing = card.streams.get(name);
    if (existing !== undefined) return existing;
    const kind = name === THINKING ? 'thinking' : name === ANSWER ? 'answer' : 'other';
    const node = el('p', `run-text ${kind}`);
    node.dataset.testid = kind === 'other' ? 'run-text' : `run-${kind}`;
    node.dataset.stream = name;
    card.streams.set(name, node);
    const thinking = card.streams.get(THINKING);
    if (kind === 'answer' && thinking !== undefined) thinking.after(node);
    else if (kind === 'other') card.texts.append(node);
    else card.texts.prepend(node);
    return node;
  }

  #updateCount(): void {
    const n = this.#runs.size;
    if (this.#empty !== null) this.#empty.hidden = n > 0;
    if (this.#count !== null)
      this.#count.textContent = n === 0 ? 'no runs yet' : `${n} run${n === 1 ? '' : 's'}`;
  }
}
