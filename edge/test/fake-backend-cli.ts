/**
 * Runs the fake backend on its own, for trying the edge without a GPU:
 *   PORT=8080 CONTROL_PORT=8081 BACKEND_SHARED_SECRET=... npm run fake-backend -w edge
 */
import { FakeBackend } from './fake-backend';

const backend = new FakeBackend({ secret: process.env.BACKEND_SHARED_SECRET || undefined });
const { port, controlPort } = await backend.start(
  Number(process.env.PORT ?? 8080),
  Number(process.env.CONTROL_PORT ?? 8081),
);
console.log(
  `fake backend on http://127.0.0.1:${port} (control: http://127.0.0.1:${controlPort}/__control/calls)`,
);
process.on('SIGINT', () => void backend.stop().then(() => process.exit(0)));
process.on('SIGTERM', () => void backend.stop().then(() => process.exit(0)));
