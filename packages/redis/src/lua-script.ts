import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis-client.js';

export type ScriptArg = string | number | Buffer;
export type ScriptReply = string | number | null | ScriptReply[];

/**
 * A Lua script from packages/redis/lua, loaded once. Runs with EVALSHA and
 * falls back to EVAL when the server does not know it yet (after a restart,
 * or on a cluster node seen for the first time).
 */
export class LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly source: string;
  readonly sha: string;

  constructor(fileName: string) {
    const match = /-(\d+)\.lua$/.exec(fileName);
    if (!match?.[1]) throw new Error(`script file ${fileName} must end in -<key count>.lua`);
    this.name = fileName.replace(/\.lua$/, '');
    this.numberOfKeys = Number(match[1]);
    this.source = readFileSync(new URL(`../lua/${fileName}`, import.meta.url), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: ScriptArg[]): Promise<ScriptReply> {
    if (keys.length !== this.numberOfKeys) {
      throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    try {
      return (await client.evalsha(this.sha, this.numberOfKeys, ...keys, ...args)) as ScriptReply;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return (await client.eval(this.source, this.numberOfKeys, ...keys, ...args)) as ScriptReply;
      }
      throw error;
    }
  }

  /**
   * Like run(), for long argument lists: `keysThenArgs` holds the keys, then
   * the arguments, and is handed to ioredis as it is (ioredis flattens it
   * into its command once; spreading it here would copy it twice more).
   */
  async runPrepared(
    client: RedisClient,
    keysThenArgs: Array<string | Buffer>,
  ): Promise<ScriptReply> {
    if (keysThenArgs.length < this.numberOfKeys) {
      throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keysThenArgs.length}`);
    }
    try {
      return (await client.evalsha(this.sha, this.numberOfKeys, keysThenArgs)) as ScriptReply;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return (await client.eval(this.source, this.numberOfKeys, keysThenArgs)) as ScriptReply;
      }
      throw error;
    }
  }
}

/** Every script of the project, by name. */
export const Scripts = {
  persistBatch: new LuaScript('persist-batch-1.lua'),
  openSession: new LuaScript('open-session-4.lua'),
  readRun: new LuaScript('read-run-1.lua'),
  closeSession: new LuaScript('close-session-1.lua'),
  acquireLease: new LuaScript('acquire-lease-2.lua'),
  renewLease: new LuaScript('renew-lease-1.lua'),
  releaseLease: new LuaScript('release-lease-1.lua'),
  publishUpstream: new LuaScript('publish-upstream-2.lua'),
  recordAcks: new LuaScript('record-acks-1.lua'),
  markNotified: new LuaScript('mark-notified-1.lua'),
  readHistory: new LuaScript('read-history-2.lua'),
  rotateEpochs: new LuaScript('rotate-epochs-1.lua'),
  ensureGroup: new LuaScript('ensure-group-1.lua'),
  streamGroups: new LuaScript('stream-groups-1.lua'),
  emitStalls: new LuaScript('emit-stalls-1.lua'),
  appendIngest: new LuaScript('append-ingest-1.lua'),
} as const;

/** Negative codes scripts return as their first element, mapped once. */
export const ScriptCode = {
  Fenced: -1,
  UserLimitReached: -2,
  /** persist-batch: the shard's history mark went backwards (writes were lost). */
  HistoryLost: -3,
  /** persist-batch: older entries of the shard are pending in the group (the order guard). */
  PendingBefore: -4,
} as const;
