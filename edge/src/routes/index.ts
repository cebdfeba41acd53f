import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env';
import { invalidRequestHook } from '../validation';
import {
  adminCreateKey,
  adminCreateKeyRoute,
  adminKeyUsage,
  adminKeyUsageRoute,
  adminListKeys,
  adminListKeysRoute,
  adminRevokeKey,
  adminRevokeKeyRoute,
} from './admin';
import { health, healthRoute } from './health';
import { account, accountRoute, removeBg, removeBgRoute } from './removebg';
import { lookup, lookupRoute } from './lookup';
import { removeBackground, removeBackgroundRoute } from './remove-background';
import { resultKeyHook, results, resultsRoute } from './results';
import { status, statusRoute } from './status';

/**
 * The route table. Each route is defined once (createRoute: method, path, the shared zod schemas
 * that validate it, its responses) next to its handler in routes/*.ts, and registered here with
 * app.openapi, which both validates requests and documents them in /openapi.json.
 */

/** What a storefront calls: served on the public API and, unchanged, under the Shopify app proxy. */
export function storefrontRoutes(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: invalidRequestHook })
    .openapi(removeBackgroundRoute, removeBackground)
    .openapi(resultsRoute, results, resultKeyHook)
    .openapi(lookupRoute, lookup);
}

/** The service's own routes: public API only. */
export function serviceRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: invalidRequestHook });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Api-Key',
    description: 'An API key from `npm run keys -- create` (remove.bg-compatible API).',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'ADMIN_TOKEN.',
  });
  return app
    .openapi(healthRoute, health)
    .openapi(statusRoute, status)
    .openapi(removeBgRoute, removeBg)
    .openapi(accountRoute, account)
    .openapi(adminCreateKeyRoute, adminCreateKey)
    .openapi(adminListKeysRoute, adminListKeys)
    .openapi(adminRevokeKeyRoute, adminRevokeKey)
    .openapi(adminKeyUsageRoute, adminKeyUsage);
}
