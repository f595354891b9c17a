import { describe, expect, it } from 'vitest';
import {
  MAX_SYNCS_AFTER_WELCOME,
  RunStore,
  SYNC_RETRY_MS,
  type RunStoreOptions,
} from '../src/run-store.js';
import type { RunView } from '../src/run-view.js';
import { appendFrame, runEvent, snapshotFrame } from './run-frames.js';

/** A run store with everything it asks for and reports recorded. */
function createStore(options: Partial<RunStoreOptions> & { online?: boolean } = {}) {
  const syncs: string[] = [];
  const changes: RunView[] = [];
  const clock = { now: 1000, online: options.online ?? true };
  const store = new RunStore({
    maxRuns: 100,
    endEvents: ['agent_completed', 'agent_error'],
    maxTextLength: 1_048_576,
    now: () => clock.now,
    requestSnapshot: (runId) => {
      if (!clock.online) return false;
      syncs.push(runId);
      return true;
    },
    onChange: (view) => {
      changes.push(view);
    },
    ...options,
  });
  store.connected('e1', 0);
  return { store, syncs, changes, clock };
}

const text = (view: RunView | undefined, stream = 'main'): string | undefined =>
  view?.streams[stream]?.text;

describe('run store: the chunk rule', () => {
  it('appends chunk known+1, ignores chunk <= known, keeps streams apart', () => {
    const { store, changes, syncs } = createStore();
    store.applyEvent(appendFrame(1, 'Hel'));
    store.applyEvent(appendFrame(2, 'lo'));
    store.applyEvent(appendFrame(1, 'think', { stream: 'thinking' }));
    // Repeats of seen chunks (an at-least-once path) change nothing and report nothing.
    store.applyEvent(appendFrame(2, 'lo'));
    store.applyEvent(appendFrame(1, 'Hel'));
    store.applyEvent(appendFrame(3, ' world'));
    const run = store.get('r1');
    expect(run?.streams).toEqual({
      main: { text: 'Hello world', chunks: 3, truncated: false },
      thinking: { text: 'think', chunks: 1, truncated: false },
    });
    expect(run?.status).toBe('running');
    expect(changes).toHaveLength(4);
    expect(syncs).toEqual([]);
  });

  it('names the default stream main', () => {
    const { store } = createStore();
    store.applyEvent(appendFrame(1, 'x'));
    expect(Object.keys(store.get('r1')?.streams ?? {})).toEqual(['main']);
  });

  it('on a gap asks for a snapshot once, holds the appends, then applies those beyond it', () => {
    const { store, syncs, changes } = createStore();
    store.applyEvent(appendFrame(1, 'a'));
    store.applyEvent(appendFrame(3, 'c'));
    expect(syncs).toEqual(['r1']);
    expect(store.get('r1')).toMatchObject({ syncing: true, streams: { main: { text: 'a' } } });
    // Further appends, with gaps or without, wait for the snapshot: no second sync.
    store.applyEvent(appendFrame(4, 'd'));
    store.applyEvent(appendFrame(6, 'f'));
    store.applyEvent(appendFrame(5, 'e'));
    expect(syncs).toEqual(['r1']);
    expect(text(store.get('r1'))).toBe('a');
    const before = changes.length;

    // The snapshot (over SSE a separate request) stopped at chunk 4.
    store.applySnapshot(snapshotFrame('running', { main: { text: 'abcd', chunks: 4 } }));
    expect(changes.length - before).toBe(1);
    // 6 arrived before 5: a new gap after the snapshot, so 6 asks again and waits.
    expect(syncs).toEqual(['r1', 'r1']);
    expect(store.get('r1')).toMatchObject({ syncing: true, streams: { main: { text: 'abcd' } } });
    store.applySnapshot(snapshotFrame('running', { main: { text: 'abcdef', chunks: 6 } }));
    expect(store.get('r1')).toMatchObject({
      syncing: false,
      streams: { main: { text: 'abcdef', chunks: 6 } },
    });
  });

  it('applies the held appends beyond the snapshot in order', () => {
    const { store, syncs } = createStore();
    store.applyEvent(appendFrame(2, 'b'));
    store.applyEvent(appendFrame(3, 'c'));
    store.applyEvent(appendFrame(4, 'd'));
    expect(syncs).toEqual(['r1']);
    store.applySnapshot(snapshotFrame('running', { main: { text: 'ab', chunks: 2 } }));
    expect(store.get('r1')).toMatchObject({
      syncing: false,
      streams: { main: { text: 'abcd', chunks: 4 } },
    });
    expect(syncs).toEqual(['r1']);
  });

  it('sends an unanswered sync again on the next event after SYNC_RETRY_MS', () => {
    const { store, syncs, clock } = createStore();
    store.applyEvent(appendFrame(2, 'b'));
    clock.now += SYNC_RETRY_MS - 1;
    store.applyEvent(appendFrame(3, 'c'));
    expect(syncs).toEqual(['r1']);
    clock.now += 1;
    store.applyEvent(appendFrame(4, 'd'));
    expect(syncs).toEqual(['r1', 'r1']);
  });

  it('cuts text at maxTextLength, never inside a surrogate pair, and then only counts chunks', () => {
    const { store } = createStore({ maxTextLength: 5 });
    store.applyEvent(appendFrame(1, 'abcd'));
    store.applyEvent(appendFrame(2, '😀x'));
    expect(store.get('r1')?.streams.main).toEqual({ text: 'abcd', chunks: 2, truncated: true });
    store.applyEvent(appendFrame(3, 'more'));
    expect(store.get('r1')?.streams.main).toEqual({ text: 'abcd', chunks: 3, truncated: true });
    // A snapshot the server truncated stays as it is too.
    store.applySnapshot(
      snapshotFrame('running', { main: { text: 'ab', chunks: 9, truncated: true } }),
    );
    store.applyEvent(appendFrame(10, 'z'));
    expect(store.get('r1')?.streams.main).toEqual({ text: 'ab', chunks: 10, truncated: true });
  });

  it('treats stream names like constructor as plain names', () => {
    const { store } = createStore();
    store.applyEvent(appendFrame(1, 'x', { stream: 'constructor' }));
    store.applyEvent(appendFrame(1, 'y', { stream: 'toString' }));
    expect(store.get('r1')?.streams).toEqual({
      constructor: { text: 'x', chunks: 1, truncated: false },
      toString: { text: 'y', chunks: 1, truncated: false },
    });
  });
});

describe('run store: snapshots', () => {
  it('replace status and streams; streams the snapshot does not name are gone', () => {
    const { store, changes } = createStore();
    store.applyEvent(appendFrame(1, 'old', { stream: 'thinking' }));
    store.applyEvent(appendFrame(1, 'x'));
    store.applySnapshot(snapshotFrame('stalled', { main: { text: 'xyz', chunks: 3 } }));
    expect(store.get('r1')).toEqual({
      runId: 'r1',
      status: 'stalled',
      startedTs: 1_764_149_999_000,
      updatedTs: 1_764_149_999_990,
      streams: { main: { text: 'xyz', chunks: 3, truncated: false } },
      syncing: false,
    });
    expect(changes.at(-1)).toBe(store.get('r1'));
    store.applyEvent(appendFrame(4, '!'));
    expect(text(store.get('r1'))).toBe('xyz!');
  });

  it('unknown keeps the run with no streams; its chunks start over', () => {
    const { store } = createStore();
    store.applyEvent(appendFrame(1, 'abc'));
    store.applySnapshot(snapshotFrame('unknown'));
    expect(store.get('r1')).toMatchObject({ status: 'unknown', streams: {}, syncing: false });
    store.applyEvent(appendFrame(1, 'new'));
    expect(store.get('r1')).toMatchObject({
      status: 'running',
      streams: { main: { text: 'new' } },
    });
  });

  it('an explicit sync of a run never seen shows it as unknown and syncing until the answer', () => {
    const { store, syncs, changes } = createStore();
    store.sync('r9');
    expect(syncs).toEqual(['r9']);
    expect(store.get('r9')).toMatchObject({ status: 'unknown', syncing: true });
    // An explicit sync is always sent, even with one outstanding.
    store.sync('r9');
    expect(syncs).toEqual(['r9', 'r9']);
    store.applySnapshot(snapshotFrame('ended', { answer: { text: 'done', chunks: 1 } }, 'r9'));
    expect(store.get('r9')).toMatchObject({ status: 'ended', syncing: false });
    expect(changes.map((c) => c.syncing)).toEqual([true, false]);
  });

  it('replayed critical events the welcome snapshot covers change nothing', () => {
    const { store, changes } = createStore();
    store.connected('e1', 10);
    store.applySnapshot(snapshotFrame('running', { main: { text: 'ab', chunks: 2 } }));
    store.snapshotsDone();
    const count = changes.length;
    // Replay of seqs up to the welcome's latestSeq: a stall the run already recovered from.
    store.applyEvent(runEvent('agent_started', { seq: 8 }));
    store.applyEvent(runEvent('run_stalled', { seq: 9 }));
    expect(changes).toHaveLength(count);
    expect(store.get('r1')?.status).toBe('running');
    store.applyEvent(runEvent('agent_completed', { seq: 11 }));
    expect(store.get('r1')?.status).toBe('ended');

    // A new history (another epoch): its seqs are not comparable, so they count again.
    store.connected('e2', 0);
    store.applyEvent(runEvent('run_stalled', { seq: 1, runId: 'r2' }));
    store.applyEvent(runEvent('agent_error', { seq: 2 }));
    expect(store.get('r1')?.status).toBe('ended');
    expect(store.get('r2')?.status).toBe('stalled');
  });
});

describe('run store: status', () => {
  it('running from any first event, ended on a critical end event, stalled and back', () => {
    const { store } = createStore();
    const statuses: string[] = [];
    const step = (frame: Parameters<RunStore['applyEvent']>[0]): void => {
      store.applyEvent(frame);
      statuses.push(store.get('r1')?.status ?? 'none');
    };
    step(runEvent('tool_executing'));
    step(runEvent('run_stalled', { seq: 1 }));
    step(runEvent('tool_completed', { seq: 2 }));
    step(runEvent('run_stalled', { seq: 3 }));
    step(appendFrame(1, 'a'));
    // Not critical: not the end.
    step(runEvent('agent_completed'));
    step(runEvent('agent_completed', { seq: 4 }));
    // Neither appends nor other events reopen an ended run; a stall cannot reach it.
    step(appendFrame(2, 'b'));
    step(runEvent('tool_executing', { seq: 5 }));
    step(runEvent('run_stalled', { seq: 6 }));
    expect(statuses).toEqual([
      'running',
      'stalled',
      'running',
      'stalled',
      'running',
      'running',
      'ended',
      'ended',
      'ended',
      'ended',
    ]);
    expect(text(store.get('r1'))).toBe('ab');
  });

  it('syncs once when the run’s end names more chunks than it has (appends lost with a connection)', () => {
    const { store, syncs, changes } = createStore();
    store.applyEvent(appendFrame(1, 'a'));
    store.applyEvent({ ...runEvent('agent_completed', { seq: 1 }), runChunks: { main: 1 } });
    expect(syncs).toEqual([]);
    store.applyEvent(appendFrame(1, 'x', { runId: 'r2' }));
    const before = changes.length;
    store.applyEvent({
      ...runEvent('agent_completed', { seq: 2, runId: 'r2' }),
      runChunks: { main: 3, thinking: 1 },
    });
    expect(syncs).toEqual(['r2']);
    expect(changes).toHaveLength(before + 1);
    expect(store.get('r2')).toMatchObject({ status: 'ended', syncing: true });
  });

  it('takes the end events from its options', () => {
    const { store } = createStore({ endEvents: ['done'] });
    store.applyEvent(runEvent('agent_completed', { seq: 1 }));
    expect(store.get('r1')?.status).toBe('running');
    store.applyEvent(runEvent('done', { seq: 2 }));
    expect(store.get('r1')?.status).toBe('ended');
  });

  it('records the first and last event times; events without a runId are not runs', () => {
    const { store, changes } = createStore();
    store.applyEvent(runEvent('agent_started', { seq: 1, ts: 100 }));
    store.applyEvent(appendFrame(1, 'a', { ts: 250 }));
    store.applyEvent(runEvent('tool_executing', { seq: 2, ts: 200 }));
    expect(store.get('r1')).toMatchObject({ startedTs: 100, updatedTs: 250 });
    const { runId: _ignored, ...noRun } = runEvent('agent_started', { seq: 3 });
    store.applyEvent(noRun);
    expect(changes).toHaveLength(3);
    expect(store.list()).toHaveLength(1);
  });
});

describe('run store: reconnects', () => {
  it('after a welcome, asks about running runs its snapshots left out, once they are over', () => {
    const { store, syncs } = createStore();
    store.applyEvent(appendFrame(1, 'a', { runId: 'gone' }));
    store.applyEvent(appendFrame(1, 'a', { runId: 'kept' }));
    store.applyEvent(runEvent('agent_completed', { seq: 1, runId: 'done' }));
    store.applyEvent(runEvent('run_stalled', { seq: 2, runId: 'stuck' }));

    store.connected('e1', 2);
    store.applySnapshot(snapshotFrame('running', { main: { text: 'ab', chunks: 2 } }, 'kept'));
    expect(syncs).toEqual([]);
    // The first other frame (a replayed or live event, a heartbeat) ends the snapshots.
    store.applyEvent(runEvent('agent_started', { seq: 3, runId: 'new' }));
    expect(syncs.sort()).toEqual(['gone', 'stuck']);
    expect(store.get('gone')?.syncing).toBe(true);
    store.snapshotsDone();
    store.applyEvent(appendFrame(2, 'b', { runId: 'gone' }));
    expect(syncs).toHaveLength(2);
  });

  it('an event of no run ends the snapshots too', () => {
    const { store, syncs } = createStore();
    store.applyEvent(appendFrame(1, 'a'));
    store.connected('e1', 0);
    const { runId: _none, ...noRun } = runEvent('agent_started', { seq: 1 });
    store.applyEvent(noRun);
    expect(syncs).toEqual(['r1']);
  });

  it('sends a sync the old connection never answered again after the next welcome', () => {
    const { store, syncs } = createStore();
    store.applyEvent(runEvent('agent_completed', { seq: 1 }));
    store.applyEvent(appendFrame(5, 'late'));
    expect(syncs).toEqual(['r1']);
    store.connected('e1', 1);
    store.snapshotsDone();
    expect(syncs).toEqual(['r1', 'r1']);
  });

  it('sends syncs asked for offline once connected, at most MAX_SYNCS_AFTER_WELCOME at once', () => {
    const { store, syncs, clock } = createStore({ online: false });
    const ids = Array.from({ length: MAX_SYNCS_AFTER_WELCOME + 2 }, (_, i) => `r${i}`);
    for (const id of ids) store.sync(id);
    expect(syncs).toEqual([]);
    clock.online = true;
    store.connected('e1', 0);
    store.snapshotsDone();
    expect(syncs).toHaveLength(MAX_SYNCS_AFTER_WELCOME);
    // The rest go out with their run's next event.
    const left = ids.find((id) => !syncs.includes(id)) as string;
    store.applyEvent(runEvent('agent_started', { runId: left }));
    expect(syncs).toContain(left);
  });
});

describe('run store: views and memory', () => {
  it('hands out a new frozen view per change and never changes an old one', () => {
    const { store, changes } = createStore();
    store.applyEvent(appendFrame(1, 'a'));
    const first = store.get('r1');
    store.applyEvent(appendFrame(2, 'b'));
    const second = store.get('r1');
    expect(second).not.toBe(first);
    expect(text(first)).toBe('a');
    expect(text(second)).toBe('ab');
    expect(changes).toEqual([first, second]);
    expect(Object.isFrozen(second)).toBe(true);
    expect(Object.isFrozen(second?.streams)).toBe(true);
    expect(Object.isFrozen(second?.streams.main)).toBe(true);
  });

  it('list() keeps first-seen order and is the same array until a run changes', () => {
    const { store } = createStore();
    store.applyEvent(runEvent('agent_started', { runId: 'a' }));
    store.applyEvent(runEvent('agent_started', { runId: 'b' }));
    const list = store.list();
    expect(store.list()).toBe(list);
    store.applyEvent(appendFrame(1, 'x', { runId: 'a' }));
    expect(store.list()).not.toBe(list);
    expect(store.list().map((r) => r.runId)).toEqual(['a', 'b']);
    // A repeat changes nothing, so the list stays.
    const again = store.list();
    store.applyEvent(appendFrame(1, 'x', { runId: 'a' }));
    expect(store.list()).toBe(again);
  });

  it('keeps at most maxRuns, dropping the run updated longest ago', () => {
    const { store } = createStore({ maxRuns: 3 });
    for (const id of ['a', 'b', 'c']) store.applyEvent(runEvent('agent_started', { runId: id }));
    store.applyEvent(appendFrame(1, 'x', { runId: 'a' }));
    store.applyEvent(runEvent('agent_started', { runId: 'd' }));
    expect(store.list().map((r) => r.runId)).toEqual(['a', 'c', 'd']);
    expect(store.get('b')).toBeUndefined();
    for (let i = 0; i < 50; i++) store.applyEvent(runEvent('agent_started', { runId: `x${i}` }));
    expect(store.list()).toHaveLength(3);
  });
});
