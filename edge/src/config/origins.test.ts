import { describe, expect, it } from 'vitest';
import { parseOriginPatterns } from './origins';

describe('parseOriginPatterns', () => {
  const matcher = parseOriginPatterns(
    'https://shop.example.com/, https://*.myshopify.com,http://localhost:8787',
  );

  it.each([
    ['https://shop.example.com', true],
    ['HTTPS://Shop.Example.com', true],
    ['https://a-store.myshopify.com', true],
    ['http://localhost:8787', true],
    ['http://localhost:8788', false],
    ['https://myshopify.com', false],
    ['https://a.b.myshopify.com', false],
    ['https://evilmyshopify.com', false],
    ['https://a-store.myshopify.com.evil.example', false],
    ['http://a-store.myshopify.com', false],
    ['null', false],
  ])('%s → %s', (origin, allowed) => {
    expect(matcher.matches(origin)).toBe(allowed);
  });

  it('allows nothing when empty', () => {
    expect(parseOriginPatterns('').matches('https://shop.example.com')).toBe(false);
  });
});
