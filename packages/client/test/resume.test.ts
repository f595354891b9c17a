import { describe, expect, it } from 'vitest';
import { classifyCritical, resumeFromWelcome } from '../src/resume.js';
import { welcomeFrame } from './fake-web-socket.js';

describe('resumeFromWelcome', () => {
  it('takes latestSeq and epoch as the position on a live start', () => {
    expect(resumeFromWelcome(undefined, welcomeFrame({ latestSeq: 45, oldestSeq: 3 }))).toEqual({
      position: { lastSeq: 45, epoch: 'e1' },
      resync: false,
    });
  });

  it('keeps the position on a normal resume', () => {
    const welcome = welcomeFrame({ latestSeq: 45, oldestSeq: 3, resumed: true });
    expect(resumeFromWelcome({ lastSeq: 41, epoch: 'e1' }, welcome)).toEqual({
      position: { lastSeq: 41, epoch: 'e1' },
      resync: false,
    });
  });

  it('adopts the epoch of a hand-seeded position', () => {
    const welcome = welcomeFrame({ epoch: 'k3', latestSeq: 9, oldestSeq: 1 });
    expect(resumeFromWelcome({ lastSeq: 0 }, welcome).position).toEqual({
      lastSeq: 0,
      epoch: 'k3',
    });
  });

  it('moves to just before oldestSeq when events were lost to retention', () => {
    const welcome = welcomeFrame({ latestSeq: 90, oldestSeq: 50, resumed: false });
    expect(resumeFromWelcome({ lastSeq: 10, epoch: 'e1' }, welcome)).toEqual({
      position: { lastSeq: 49, epoch: 'e1' },
      resync: true,
    });
  });

  it('restarts at oldestSeq - 1 of a new epoch', () => {
    const welcome = welcomeFrame({ epoch: 'e2', latestSeq: 7, oldestSeq: 1, resumed: false });
    expect(resumeFromWelcome({ lastSeq: 300, epoch: 'e1' }, welcome)).toEqual({
      position: { lastSeq: 0, epoch: 'e2' },
      resync: true,
    });
  });

  it('goes live after latestSeq when the position is ahead of the history', () => {
    const welcome = welcomeFrame({ latestSeq: 20, oldestSeq: 1, resumed: false });
    expect(resumeFromWelcome({ lastSeq: 41, epoch: 'e1' }, welcome)).toEqual({
      position: { lastSeq: 20, epoch: 'e1' },
      resync: true,
    });
  });

  it('uses latestSeq when a new epoch retains nothing', () => {
    const welcome = welcomeFrame({ epoch: 'e2', latestSeq: 0, oldestSeq: 0, resumed: false });
    expect(resumeFromWelcome({ lastSeq: 5, epoch: 'e1' }, welcome).position).toEqual({
      lastSeq: 0,
      epoch: 'e2',
    });
  });
});

describe('classifyCritical', () => {
  it('delivers the next seq, drops seen ones, flags jumps', () => {
    expect(classifyCritical(41, 42)).toBe('deliver');
    expect(classifyCritical(41, 41)).toBe('duplicate');
    expect(classifyCritical(41, 3)).toBe('duplicate');
    expect(classifyCritical(41, 43)).toBe('gap');
    expect(classifyCritical(0, 1)).toBe('deliver');
  });
});
