import { ConfigError } from '@agentwire/config';
import { describe, expect, it } from 'vitest';
import { loadBufferEnv } from '../src/env.js';
import { stallCheckEveryMs } from '../src/jobs/emit-stalls.js';

describe('buffer environment', () => {
  it('listens on PORT (protocol.md section 8), 9090 when unset', () => {
    expect(loadBufferEnv({ PORT: '9191' }).PORT).toBe(9191);
    expect(loadBufferEnv({}).PORT).toBe(9090);
    expect(loadBufferEnv({ PORT: '' }).PORT).toBe(9090);
  });

  it('still takes the deprecated METRICS_PORT when PORT is unset; PORT wins over it', () => {
    expect(loadBufferEnv({ METRICS_PORT: '9292' }).PORT).toBe(9292);
    expect(loadBufferEnv({ PORT: '9191', METRICS_PORT: '9292' }).PORT).toBe(9191);
  });

  it('names the variable of a bad port', () => {
    for (const name of ['PORT', 'METRICS_PORT']) {
      for (const value of ['0', '65536', 'http']) {
        const parse = () => loadBufferEnv({ [name]: value });
        expect(parse).toThrow(ConfigError);
        expect(parse).toThrow(name);
      }
    }
  });

  it('stops within STOP_GRACE_MS, 20000 by default and at least 1000', () => {
    expect(loadBufferEnv({}).STOP_GRACE_MS).toBe(20_000);
    expect(loadBufferEnv({ STOP_GRACE_MS: '3000' }).STOP_GRACE_MS).toBe(3000);
    expect(() => loadBufferEnv({ STOP_GRACE_MS: '999' })).toThrow('STOP_GRACE_MS');
  });

  it('detects stalled runs after RUN_STALL_MS, 120000 by default, 0 turning it off', () => {
    expect(loadBufferEnv({}).RUN_STALL_MS).toBe(120_000);
    expect(loadBufferEnv({ RUN_STALL_MS: '0' }).RUN_STALL_MS).toBe(0);
    expect(loadBufferEnv({ RUN_STALL_MS: '1500' }).RUN_STALL_MS).toBe(1500);
    for (const value of ['-1', '1.5', 'soon']) {
      const parse = () => loadBufferEnv({ RUN_STALL_MS: value });
      expect(parse).toThrow(ConfigError);
      expect(parse).toThrow('RUN_STALL_MS');
    }
  });

  it('checks for stalls every quarter of RUN_STALL_MS, between 250 ms and 5 s', () => {
    expect(stallCheckEveryMs(120_000)).toBe(5000);
    expect(stallCheckEveryMs(8000)).toBe(2000);
    expect(stallCheckEveryMs(600)).toBe(250);
  });
});
