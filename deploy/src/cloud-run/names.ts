/** gRPC status NOT_FOUND, as google-gax reports it for REST 404s too. */
const NOT_FOUND = 5;

export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === NOT_FOUND;
}

/** `projects/p/locations/r/services/s/revisions/s-00001-abc` -> `s-00001-abc`. */
export function shortName(name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  return name.slice(name.lastIndexOf('/') + 1);
}
