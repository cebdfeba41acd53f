/** What test/image-server-setup.ts (Node) hands the workerd image_url tests. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** The image server's port, the only one in IMAGE_URL_DEV_HOSTS. */
    imagePort: number;
    /** A second listener of it that the edge must never reach. */
    forbiddenImagePort: number;
  }
}

export {};
