import { appFor } from './app';
import { configFor } from './config';
import { isWithinWarmupWindow } from './config/warmup-window';
import { warmBackend } from './warmup';

export { ResultCoalescer } from './coalescer';

export default {
  fetch: (request: Request, env: Env, ctx: ExecutionContext) => appFor(env).fetch(request, env, ctx),
  /** Cron trigger: warm the backend during WARMUP_DAYS/WARMUP_HOURS, do nothing outside them. */
  scheduled(controller, env, ctx) {
    const config = configFor(env);
    if (!isWithinWarmupWindow(new Date(controller.scheduledTime), config.warmup)) return;
    ctx.waitUntil(warmBackend(config));
  },
} satisfies ExportedHandler<Env>;
