import { describe, expect, it } from 'vitest';
import {
  checkTarget,
  httpBaseOf,
  isLoopbackHost,
  RemoteTargetError,
  wsUrlOf,
} from '../src/loopback-guard.js';
import { sourceAddressPlan } from '../src/source-addresses.js';

describe('loopback guard', () => {
  it('recognises loopback hosts', () => {
    for (const host of ['localhost', '127.0.0.1', '127.3.4.5', '::1', '[::1]', 'api.localhost']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['10.0.0.1', '128.0.0.1', 'example.com', '::2', 'localhost.example.com']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('refuses a remote target unless allowed', () => {
    expect(() => checkTarget('http://10.1.2.3:8080', false)).toThrow(RemoteTargetError);
    expect(checkTarget('http://10.1.2.3:8080', true).hostname).toBe('10.1.2.3');
    expect(checkTarget('http://127.0.0.1:8080', false).port).toBe('8080');
    expect(() => checkTarget('ftp://127.0.0.1', false)).toThrow(RemoteTargetError);
    expect(() => checkTarget('not a url', false)).toThrow(RemoteTargetError);
  });

  it('derives the WebSocket endpoint and HTTP base of an edge', () => {
    expect(wsUrlOf(new URL('http://127.0.0.1:8080/anything?x=1'))).toBe(
      'ws://127.0.0.1:8080/v1/ws',
    );
    expect(wsUrlOf(new URL('https://edge.example:443'))).toBe('wss://edge.example/v1/ws');
    expect(httpBaseOf(new URL('ws://127.0.0.1:8081/v1/ws'))).toBe('http://127.0.0.1:8081');
  });
});

describe('sourceAddressPlan', () => {
  it('spreads sockets round robin over 127.0.0.2 and up for an IPv4 loopback target', () => {
    const plan = sourceAddressPlan('127.0.0.1', 8);
    expect([0, 1, 7, 8, 9].map((i) => plan?.(i))).toEqual([
      '127.0.0.2',
      '127.0.0.3',
      '127.0.0.9',
      '127.0.0.2',
      '127.0.0.3',
    ]);
  });

  it('leaves the choice to the kernel for other targets and rejects silly counts', () => {
    expect(sourceAddressPlan('localhost', 8)).toBeUndefined();
    expect(sourceAddressPlan('10.0.0.1', 8)).toBeUndefined();
    expect(() => sourceAddressPlan('127.0.0.1', 0)).toThrow(RangeError);
    expect(() => sourceAddressPlan('127.0.0.1', 251)).toThrow(RangeError);
  });
});
