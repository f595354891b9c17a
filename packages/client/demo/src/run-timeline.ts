import type { EventFrame } from '../../src/index.js';

const NO_RUN = '(no run)';

interface RunView {
  root: HTMLElement;
  status: HTMLElement;
  timeline: HTMLOListElement;
  /** The run's `thinking` stream, shown apart from its answer. */
  thinking: HTMLElement;
  stream: HTMLElement;
}

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
 * Renders critical events as one timeline per run, newest run on top, with
 * the run's token deltas streamed underneath. Text only goes through
 * textContent: event data is untrusted.
 */
export class RunTimeline {
  readonly #container: HTMLElement;
  readonly #empty: HTMLElement | null;
  readonly #count: HTMLElement | null;
  readonly #runs = new Map<string, RunView>();
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
    if (event.name === 'agent_started') this.#setStatus(run, 'running');
    if (event.name === 'agent_completed') this.#setStatus(run, 'completed');
    if (event.name === 'agent_error') this.#setStatus(run, 'error');
  }

  /**
   * A `token`: an append to a run's stream (protocol 1.1), or a delta with
   * `data.text`, added to its run, or to the run seen last when it names none.
   */
  addToken(event: EventFrame): void {
    const data = event.data as { text?: unknown } | undefined;
    const text = event.append ?? data?.text;
    if (typeof text !== 'string') return;
    const run = this.#run(event.runId ?? this.#currentRun ?? NO_RUN);
    (event.stream === 'thinking' ? run.thinking : run.stream).append(text);
  }

  /** The application's state came back from nowhere (resync): start the view afresh. */
  clear(): void {
    for (const run of this.#runs.values()) run.root.remove();
    this.#runs.clear();
    this.#currentRun = undefined;
    this.#updateCount();
  }

  #run(runId: string): RunView {
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
    const thinking = el('p', 'stream thinking');
    thinking.dataset.testid = 'run-thinking';
    const stream = el('p', 'stream');
    stream.dataset.testid = 'run-stream';
    root.append(head, timeline, thinking, stream);
    this.#container.prepend(root);
    const view = { root, status, timeline, thinking, stream };
    this.#runs.set(runId, view);
    this.#updateCount();
    return view;
  }

  #setStatus(run: RunView, status: string): void {
    run.status.textContent = status;
    run.status.dataset.status = status;
  }

  #updateCount(): void {
    const n = this.#runs.size;
    if (this.#empty !== null) this.#empty.hidden = n > 0;
    if (this.#count !== null)
      this.#count.textContent = n === 0 ? 'no runs yet' : `${n} run${n === 1 ? '' : 's'}`;
  }
}
