/** What test/token-endpoint-setup.ts (Node) hands the workerd ID-token tests. */
declare module 'vitest' {
  export interface ProvidedContext {
    tokenEndpointUrl: string;
    /** A service account key file (JSON) whose token_uri is the local endpoint. */
    serviceAccountKey: string;
  }
}

export interface TokenEndpointMode {
  /** Lifetime of the ID tokens issued, in seconds (Google: 3600). */
  lifetimeSeconds?: number;
  /** Refuse every exchange with this HTTP status (and `{"error":"invalid_grant"}`). */
  failWith?: number;
  /** Delay before answering, so that concurrent callers overlap. */
  delayMs?: number;
}

export interface TokenEndpointCalls {
  exchanges: number;
  refused: { reason: string }[];
  audiences: string[];
}
