/**
 * The admin API's key shapes (/admin/v1, docs/API.md section 8): written once for the edge that
 * answers with them (and stores them: the D1 columns have the same names) and for the Node client
 * that reads them (scripts/lib/admin-client.ts).
 */

/** An API key as the admin API shows it: the api_keys columns without the key's hash. */
export interface AdminKey {
  id: string;
  key_prefix: string;
  label: string;
  monthly_credits: number;
  rate_limit_per_minute: number;
  created_at: string;
  revoked_at: string | null;
}

/** One month of a key's use (the key_usage columns). */
export interface AdminKeyUsage {
  month: string;
  credits_charged: number;
  requests: number;
  cached_requests: number;
}
