import { readdir, readFile } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { FakeBackend } from './fake-backend';
import './provided-context';

export const TEST_SECRET = 'test-shared-secret-0123456789';

/** Runs in Node: starts the fake backend for the workerd tests and hands them its ports and the fixtures. */
export default async function setup(project: TestProject) {
  const backend = new FakeBackend({ secret: TEST_SECRET });
  const { port, controlPort } = await backend.start();
  project.provide('backendPort', port);
  project.provide('controlPort', controlPort);
  const dir = new URL('./fixtures/', import.meta.url);
  const names = (await readdir(dir)).filter((name) => /\.(jpe?g|png|webp|avif|gif)$/.test(name));
  const fixtures: Record<string, string> = {};
  for (const name of names) fixtures[name] = (await readFile(new URL(name, dir))).toString('base64');
  project.provide('fixtures', fixtures);
  return () => backend.stop();
}
