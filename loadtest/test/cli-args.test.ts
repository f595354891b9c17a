import { describe, expect, it } from 'vitest';
import { numberArg, numberListArg, parseCli, UsageError } from '../src/cli-args.js';

describe('cli arguments', () => {
  it('parses bounded numbers and falls back to the default', () => {
    expect(numberArg({ duration: '30' }, 'duration', 10, { min: 1, max: 120 })).toBe(30);
    expect(numberArg({}, 'duration', 10, { min: 1, max: 120 })).toBe(10);
    expect(numberArg({ share: '0.25' }, 'share', 0, { min: 0, max: 1, integer: false })).toBe(0.25);
  });

  it('refuses values outside the caps, fractions where integers are due, and non-numbers', () => {
    expect(() => numberArg({ duration: '121' }, 'duration', 10, { min: 1, max: 120 })).toThrow(
      UsageError,
    );
    expect(() => numberArg({ clients: '1.5' }, 'clients', 1, { min: 1, max: 10 })).toThrow(
      /integer/,
    );
    expect(() => numberArg({ clients: 'lots' }, 'clients', 1, { min: 1, max: 10 })).toThrow(
      /number/,
    );
    expect(() => numberArg({ clients: '' }, 'clients', 1, { min: 1, max: 10 })).toThrow(UsageError);
  });

  it('parses lists, with none as the empty list', () => {
    expect(numberListArg({ rates: '200,1000' }, 'rates', [1], { min: 1, max: 5000 })).toEqual([
      200, 1000,
    ]);
    expect(numberListArg({ rates: 'none' }, 'rates', [1], { min: 1, max: 5000 })).toEqual([]);
    expect(numberListArg({}, 'rates', [7], { min: 1, max: 5000 })).toEqual([7]);
    expect(() => numberListArg({ rates: '200,0' }, 'rates', [1], { min: 1, max: 5000 })).toThrow(
      UsageError,
    );
  });

  it('turns unknown options into a usage error', () => {
    expect(() => parseCli({ rate: { type: 'string' } }, ['--rat', '5'])).toThrow(UsageError);
    expect(parseCli({ rate: { type: 'string' } }, ['--rate', '5']).rate).toBe('5');
  });
});
