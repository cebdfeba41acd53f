import { appFor } from './app';
import { configFor } from './config';
import type { EdgeEnv } from './env';
import { isWithinWarmupWindow, warmBackend } from './warmup';

export { ResultCoalescer } from './coalescer';

export default {
  fetch: (request: Request, env: EdgeEnv, ctx: ExecutionContext) => appFor(env).fetch(request, env, ctx),
  /** Cron trigger: warm the backend during WARMUP_DAYS/WARMUP_HOURS, do nothing outside them. */
  async scheduled(controller, env, ctx) {
    const config = configFor(env);
    if (!isWithinWarmupWindow(new Date(controller.scheduledTime), config.warmup)) return;
    ctx.waitUntil(warmBackend(config));
  },
} satisfies ExportedHandler<EdgeEnv>;
