import type { TestProject } from 'vitest/node';
import { ImageServer } from './image-server';
import './image-server-context';

/** Runs in Node: the local web server for the image_url tests (test/image-url.test.ts). */
export default async function setup(project: TestProject) {
  const server = new ImageServer();
  const { allowedPort, forbiddenPort } = await server.start();
  project.provide('imagePort', allowedPort);
  project.provide('forbiddenImagePort', forbiddenPort);
  return () => server.stop();
}
