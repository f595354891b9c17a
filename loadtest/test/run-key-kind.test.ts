import { createKeyLayout } from '@agentwire/redis';
import { describe, expect, it } from 'vitest';
import { keyKindOf } from '../src/run-key-kind.js';

describe('keyKindOf', () => {
  const keys = createKeyLayout('aw', 16);

  it('tells the keys of a run from the other keys of its shard', () => {
    expect(keyKindOf(keys.run('u1', 'r7'))).toBe('run-hash');
    expect(keyKindOf(keys.runText('u1', 'r7', 'answer'))).toBe('run-text');
    expect(keyKindOf(keys.userRuns('u1'))).toBe('user-runs');
    expect(keyKindOf(keys.shardRunning(3))).toBe('shard-running');
    expect(keyKindOf(keys.ingest(3))).toBe('ingest');
    expect(keyKindOf(keys.userMeta('u1'))).toBe('user-meta');
    expect(keyKindOf(keys.userLog('u1'))).toBe('user-log');
    expect(keyKindOf(keys.lease(2))).toBe('shard-lease');
  });

  it('groups dedupe keys, node keys and anything without a hash tag', () => {
    expect(keyKindOf(`${keys.shardBase(1)}d:u1:tok-981`)).toBe('dedupe');
    expect(keyKindOf(keys.inbox('edge-0'))).toBe('node-inbox');
    expect(keyKindOf(keys.nodes())).toBe('other');
    expect(keyKindOf('aw:{shard-maintenance}:repeat:emit-stalls')).toBe('jobs');
  });
});
