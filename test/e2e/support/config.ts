import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

/** Edge vars for the e2e stack: a short retry budget so "backend down" answers within a second or two. */
export const E2E_EDGE_VARS = {
  BACKEND_RETRY_BUDGET_MS: '1500',
  BACKEND_RETRY_BASE_MS: '50',
  STATUS_CACHE_SECONDS: '0',
  // No storefront origin here: the Shopify example goes through the app proxy, which needs no CORS.
  CORS_ORIGINS: 'https://*.myshopify.com',
} as const;

/** The Shopify app secret the e2e edge gets (SHOPIFY_APP_SECRET): tests sign app-proxy requests with it. */
export const SHOPIFY_TEST_SECRET = 'shpss_e2e-test-app-secret';
