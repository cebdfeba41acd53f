import type { TestProject } from 'vitest/node';
import { TokenEndpoint } from './token-endpoint';
import './token-endpoint-context';

/** Runs in Node: the local token endpoint for test/google-id-token.test.ts. */
export default async function setup(project: TestProject) {
  const endpoint = new TokenEndpoint();
  project.provide('tokenEndpointUrl', await endpoint.start());
  project.provide('serviceAccountKey', endpoint.serviceAccountJson());
  return () => endpoint.stop();
}
