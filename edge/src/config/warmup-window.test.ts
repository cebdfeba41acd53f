import { describe, expect, it } from 'vitest';
import { isWithinWarmupWindow, parseWarmupWindow } from './warmup-window';

describe('warm-up window', () => {
  const berlin = parseWarmupWindow('Europe/Berlin', 'mon-fri', '07-21');

  it.each([
    ['2026-03-02T06:00:00Z', true], // Monday 07:00 CET, the first hour in
    ['2026-03-02T19:59:00Z', true], // Monday 20:59
    ['2026-03-02T20:00:00Z', false], // Monday 21:00, end exclusive
    ['2026-03-07T10:00:00Z', false], // Saturday
  ])('%s → %s', (iso, inside) => {
    expect(isWithinWarmupWindow(new Date(iso), berlin)).toBe(inside);
  });

  it('wraps past midnight and across the week', () => {
    const night = parseWarmupWindow('UTC', 'fri-mon', '22-06');
    expect(isWithinWarmupWindow(new Date('2026-03-08T23:00:00Z'), night)).toBe(true); // Sunday 23:00
    expect(isWithinWarmupWindow(new Date('2026-03-08T12:00:00Z'), night)).toBe(false); // Sunday noon
    expect(isWithinWarmupWindow(new Date('2026-03-04T23:00:00Z'), night)).toBe(false); // Wednesday
  });

  it('is off for an empty WARMUP_HOURS', () => {
    expect(parseWarmupWindow('UTC', 'mon-sun', '')).toBeNull();
    expect(isWithinWarmupWindow(new Date(), null)).toBe(false);
  });
});
