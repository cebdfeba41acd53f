/** What the global setup hands the test files through vitest's provide/inject. */
declare module 'vitest' {
  export interface ProvidedContext {
    edgeUrl: string;
    backendUrl: string;
    /** POST /backend/stop, /backend/start (waits until ready). */
    controlUrl: string;
    /** The backend's shared secret for this run (to read its /metrics). */
    secret: string;
    /** The edge's ADMIN_TOKEN for this run (to create API keys). */
    adminToken: string;
    repoRoot: string;
    /**
     * A local web server for image_url tests: GET /<file in the photos folder>, GET /to?url=<u>
     * (a 302 to u). The edge has it in IMAGE_URL_DEV_HOSTS, the only host it fetches over http.
     */
    photoServerUrl: string;
    /**
     * The model the fuzz asks for: u2netp when its weights are installed (CI installs them; both
     * services then serve it beside the default), else the default model.
     */
    fuzzModel: string;
  }
}

export {};
