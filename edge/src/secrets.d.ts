// The Worker's secrets, which `wrangler types` cannot see (they are never in wrangler.toml; set
// with `wrangler secret put`, locally in edge/.dev.vars). Everything else in `Env` is generated
// from wrangler.toml into worker-configuration.d.ts (`npm run types -w edge`).
declare namespace Cloudflare {
  interface Env {
    /** HMAC key for X-Signature on every backend call; unset: requests go unsigned. */
    BACKEND_SHARED_SECRET?: string;
    /** JSON key of the service account that mints Google ID tokens for Cloud Run IAM. */
    GCP_SERVICE_ACCOUNT_KEY?: string;
    /** The Shopify app's API secret; unset: the app proxy refuses every request. */
    SHOPIFY_APP_SECRET?: string;
    /** Bearer token of the admin API (/admin/v1); unset: the admin API is off. */
    ADMIN_TOKEN?: string;
  }
}
