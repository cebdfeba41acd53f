/** What the global setup (Node) hands the workerd tests through vitest's provide/inject. */
declare module 'vitest' {
  export interface ProvidedContext {
    backendPort: number;
    controlPort: number;
    /** Every image file in test/fixtures, base64 by name. */
    fixtures: Record<string, string>;
  }
}

export {};
