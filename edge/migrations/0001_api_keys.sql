-- API keys for the remove.bg-compatible API (/v1.0/*) and for server-to-server calls of the
-- native API (X-Api-Key). Applied by `npm start` locally and by `wrangler d1 migrations apply`
-- in production (docs/DEPLOY.md). A key itself is never stored: only its SHA-256.

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,                                -- public id (key_...), for admin commands
  key_hash TEXT NOT NULL UNIQUE,                      -- hex SHA-256 of the whole key
  key_prefix TEXT NOT NULL,                           -- the key's first characters, to recognise it
  label TEXT NOT NULL,
  monthly_credits REAL NOT NULL CHECK (monthly_credits >= 0),
  rate_limit_per_minute INTEGER NOT NULL CHECK (rate_limit_per_minute > 0),
  created_at TEXT NOT NULL,                           -- ISO 8601, UTC
  revoked_at TEXT                                     -- set once by revoke; a revoked key is refused
);

-- Credits charged and requests served per key and calendar month (UTC, 'YYYY-MM').
CREATE TABLE key_usage (
  key_id TEXT NOT NULL REFERENCES api_keys (id),
  month TEXT NOT NULL,
  credits_charged REAL NOT NULL DEFAULT 0,
  requests INTEGER NOT NULL DEFAULT 0,
  cached_requests INTEGER NOT NULL DEFAULT 0,         -- served from the cache: 0 credits
  PRIMARY KEY (key_id, month)
);

-- Credits held for requests in flight, so that concurrent requests cannot spend the same credits.
-- A hold is settled (deleted, and its charge added to key_usage in the same transaction) when the
-- request ends; one whose Worker died stops counting at expires_at (unix ms).
CREATE TABLE credit_holds (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES api_keys (id),
  month TEXT NOT NULL,
  credits REAL NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX credit_holds_by_key ON credit_holds (key_id, month, expires_at);

-- Requests per key and minute (fixed windows, unix seconds of the window start).
CREATE TABLE rate_windows (
  key_id TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key_id, window_start)
);
