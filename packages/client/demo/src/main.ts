import {
  AgentwireClient,
  memoryStore,
  type ClientState,
  type EventFrame,
} from '../../src/index.js';
import { readDemoConfig } from './demo-config.js';
import { RunTimeline } from './run-timeline.js';

/** What browser tests read: every critical event the application was handed, in order. */
interface ReceivedEvent {
  seq: number;
  name: string;
  runId: string | undefined;
}

declare global {
  interface Window {
    __agentwire?: { client: AgentwireClient; received: ReceivedEvent[] };
  }
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`demo page is missing #${id}`);
  return node as T;
}

const ui = {
  state: byId('state'),
  node: byId('node'),
  lastSeq: byId('last-seq'),
  epoch: byId('epoch'),
  endpoint: byId('endpoint'),
  transport: byId<HTMLSelectElement>('transport'),
  notice: byId('notice'),
  drop: byId<HTMLButtonElement>('drop'),
  toggle: byId<HTMLButtonElement>('toggle'),
  form: byId<HTMLFormElement>('publish-form'),
  thread: byId<HTMLInputElement>('publish-thread'),
  text: byId<HTMLInputElement>('publish-text'),
  published: byId<HTMLUListElement>('published'),
  log: byId<HTMLOListElement>('log'),
};

const MAX_LOG = 60;

function log(message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
  const item = document.createElement('li');
  item.dataset.level = level;
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString(undefined, { hour12: false });
  const text = document.createElement('span');
  text.textContent = message;
  item.append(time, text);
  ui.log.prepend(item);
  while (ui.log.childElementCount > MAX_LOG) ui.log.lastElementChild?.remove();
}

function showNotice(message: string | undefined, isError = false): void {
  ui.notice.hidden = message === undefined;
  ui.notice.textContent = message ?? '';
  ui.notice.classList.toggle('error', isError);
}

function renderState(state: ClientState): void {
  ui.state.textContent = state;
  ui.state.dataset.state = state;
  ui.toggle.textContent = state === 'closed' ? 'Connect' : 'Disconnect';
  ui.drop.disabled = state !== 'connected';
}

const config = readDemoConfig(window.location);
ui.endpoint.textContent = config.urls.join(', ');

const timeline = new RunTimeline(byId('runs'), byId('runs-empty'), byId('run-count'));
const received: ReceivedEvent[] = [];

ui.transport.value = config.transport;
// The transport is fixed per client: switching reloads the page with it in the hash.
ui.transport.addEventListener('change', () => {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  params.set('transport', ui.transport.value);
  window.location.hash = params.toString();
  window.location.reload();
});

const client = new AgentwireClient({
  url: config.urls,
  transport: config.transport,
  getToken: () => config.token ?? '',
  store: memoryStore(config.replay ? { lastSeq: 0 } : undefined),
});
window.__agentwire = { client, received };

client.on('state', ({ newState }) => renderState(newState));

let welcomes = 0;
client.on('welcome', (welcome) => {
  ui.node.textContent = welcome.node;
  ui.epoch.textContent = welcome.epoch;
  ui.lastSeq.textContent = String(client.position?.lastSeq ?? welcome.latestSeq);
  showNotice(undefined);
  const how = welcomes++ === 0 && !config.replay ? 'live start' : 'resumed';
  log(
    `connected to ${welcome.node} over ${client.transport} (${how}, latest seq ${welcome.latestSeq})`,
  );
});

client.on('event', (event: EventFrame) => {
  if (event.critical) {
    const seq = event.seq as number;
    received.push({ seq, name: event.name, runId: event.runId });
    timeline.addCritical(event);
    ui.lastSeq.textContent = String(seq);
  } else if (event.name === 'token' && event.append === undefined) {
    // Appends reach the page through the run store (`run` below); older
    // producers send token deltas in data.text.
    timeline.addToken(event);
  }
});

// Status and text streams of each run, restored by the snapshots after a drop or a reload.
client.on('run', (run) => timeline.renderRun(run));

client.on('resync', (info) => {
  timeline.clear();
  ui.lastSeq.textContent = String(info.position.lastSeq);
  log(
    `history changed on the server: resynchronising from seq ${info.position.lastSeq + 1}`,
    'warn',
  );
});

client.on('gap', ({ expected, received: got }) => {
  log(`missing seq ${expected} (got ${got}): reconnecting to fill the gap`, 'warn');
});

client.on('disconnect', ({ code, reason, byClient, reconnectInMs }) => {
  const who = byClient ? 'client closed' : `closed ${code}`;
  const next = reconnectInMs === undefined ? 'not retrying' : `retry in ${reconnectInMs} ms`;
  log(
    `${who}${reason ? ` (${reason})` : ''}, ${next}`,
    reconnectInMs === undefined ? 'error' : 'warn',
  );
});

client.on('error', (error) => {
  log(`${error.name}: ${error.message}`, 'error');
  if (client.state === 'closed') showNotice(error.message, true);
});

ui.drop.addEventListener('click', () => {
  log('dropping the connection on purpose');
  client.reconnect();
});

ui.toggle.addEventListener('click', () => {
  if (client.state === 'closed') client.connect();
  else client.disconnect();
});

ui.form.addEventListener('submit', (submit) => {
  submit.preventDefault();
  const text = ui.text.value.trim();
  if (text === '') return;
  const threadId = ui.thread.value.trim() || undefined;
  const item = document.createElement('li');
  const label = document.createElement('span');
  label.className = 'text';
  label.textContent = text;
  const status = document.createElement('span');
  status.className = 'pill';
  status.dataset.testid = 'publish-status';
  status.dataset.status = 'pending';
  status.textContent = 'sending';
  item.append(label, status);
  ui.published.prepend(item);
  ui.text.value = '';
  client.publish({ text }, { threadId }).then(
    ({ id }) => {
      status.dataset.status = 'accepted';
      status.textContent = 'accepted';
      status.title = id;
    },
    (error: Error) => {
      status.dataset.status = 'error';
      status.textContent = 'failed';
      status.title = error.message;
    },
  );
});

// A new token or endpoint in the hash means a new session: start over.
window.addEventListener('hashchange', () => window.location.reload());

renderState(client.state);
if (config.token === undefined) {
  showNotice('Add #token=<jwt> (and optionally &urls=wss://edge-a/v1/ws,...) to the page URL.');
} else {
  client.connect();
}
