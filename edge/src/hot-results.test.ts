import { describe, expect, it } from 'vitest';
import { HotResults } from './hot-results';

const result = (bytes: number) => ({
  body: new ArrayBuffer(bytes),
  contentType: 'image/png',
  sourceSha256: 'x',
});

describe('HotResults', () => {
  it('evicts the least recently used once over capacity', () => {
    const hot = new HotResults(300, 200);
    hot.set('a', result(100));
    hot.set('b', result(100));
    hot.set('c', result(100));
    expect(hot.get('a')).toBeDefined(); // a is now the most recent
    hot.set('d', result(100));
    expect(hot.get('b')).toBeUndefined();
    expect([hot.get('a'), hot.get('c'), hot.get('d')].every(Boolean)).toBe(true);
    expect(hot.size).toBe(3);
  });

  it('never keeps an item over maxItemBytes', () => {
    const hot = new HotResults(1000, 100);
    hot.set('big', result(101));
    expect(hot.get('big')).toBeUndefined();
    expect(hot.size).toBe(0);
  });
});
