import { describe, expect, it } from 'vitest';
import { recordHops } from '../src/sequencer-hop-probe.js';

/** An inbox event's fields as the persist script writes them (u, s, f, e). */
function event(user: string, seq: number, sentAt: number): string[] {
  const frame = `{"type":"event","seq":${seq},"id":"e${seq}","critical":true,"name":"n","ts":1,"data":{"sentAt":${sentAt},"user":"${user}"}}`;
  return ['u', user, 's', String(seq), 'f', frame, 'e', 'ep'];
}

describe('recordHops', () => {
  it('takes each event of an entry from its sentAt to the entry time plus half a millisecond', () => {
    const recorded: number[] = [];
    recordHops(
      [
        ['1000-0', [...event('a', 1, 997.25), ...event('b', 1, 998.5)]],
        ['1003-1', event('a', 2, 1001)],
      ],
      0,
      { record: (ms) => recorded.push(ms) },
    );
    expect(recorded).toEqual([3.25, 2, 2.5]);
  });

  it('leaves out events sent before the counted window and entries without a sentAt', () => {
    const recorded: number[] = [];
    const noSentAt = ['u', 'a', 's', '3', 'f', '{"type":"event","seq":3}', 'e', 'ep'];
    recordHops(
      [
        ['2000-0', [...event('a', 1, 1500), ...event('a', 2, 1990)]],
        ['2001-0', noSentAt],
      ],
      1900,
      { record: (ms) => recorded.push(ms) },
    );
    expect(recorded).toEqual([10.5]);
  });
});
