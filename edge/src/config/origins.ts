export interface OriginMatcher {
  readonly patterns: readonly string[];
  matches(origin: string): boolean;
}

const PATTERN = /^(https?):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?$/;

/**
 * CORS_ORIGINS: a comma list of exact origins (`https://shop.example.com`, `http://localhost:8787`)
 * and single-label wildcards (`https://*.myshopify.com` matches `https://a-shop.myshopify.com`,
 * not `https://myshopify.com` nor `https://a.b.myshopify.com`).
 */
export function parseOriginPatterns(list: string): OriginMatcher {
  const patterns = list
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(/\/+$/, ''))
    .filter(Boolean);
  const matchers = patterns.map((pattern) => {
    const m = PATTERN.exec(pattern);
    if (!m) {
      throw new Error(
        `CORS_ORIGINS: "${pattern}" is not an origin like https://shop.example or https://*.example`,
      );
    }
    const [, scheme, wildcard, host, port] = m;
    const suffix = `${host}${port ? `:${port}` : ''}`;
    if (!wildcard) return (origin: string) => origin === `${scheme}://${suffix}`;
    const re = new RegExp(`^${scheme}://[a-z0-9-]+\\.${suffix.replace(/\./g, '\\.')}$`);
    return (origin: string) => re.test(origin);
  });
  return {
    patterns,
    matches: (origin) => matchers.some((match) => match(origin.toLowerCase())),
  };
}
