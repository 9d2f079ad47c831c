import { createBatchSyncModule } from './batch-sync';
import { loadBatchSyncConfig } from './batch-sync/config';
import type { AppConfig } from './config';
import { createDataVirtualizationModule } from './data-virtualization';
import { loadDataVirtualizationConfig } from './data-virtualization/config';
import { createEventDrivenModule } from './event-driven';
import { loadEventDrivenConfig } from './event-driven/config';
import { createFireAndForgetModule } from './fire-and-forget';
import { loadFireAndForgetConfig } from './fire-and-forget/config';
import type { PatternModule } from './pattern-module';
import { createRemoteCallInModule } from './remote-call-in';
import { loadRemoteCallInConfig } from './remote-call-in/config';
import { requestReplyModule } from './request-reply';
import { createUiIntegrationModule } from './ui-integration';
import { loadUiIntegrationConfig } from './ui-integration/config';
import { createUiUpdateModule } from './ui-update';
import { loadUiUpdateConfig } from './ui-update/config';

/**
 * The pattern modules the server mounts, each under `/<name>` behind the bearer authentication, in console order.
 * This is the composition root's one place that imports pattern folders (ESLint forbids it anywhere else in the
 * shared modules), and the one place that hands configuration to pattern factories.
 *
 * Built from the validated configuration (never from `process.env` directly), so values from `.env` apply too:
 * - shared settings come from `config` (`config.sharedSecret`, `config.explicitPublicUrl`, `config.salesforce`);
 * - a pattern's own settings are read by its `src/<id>/config.ts` from `config.env` with the `EnvReader` of
 *   `src/config.ts`, and passed to the factory here, for example
 *   `createOrderSyncModule(loadOrderSyncConfig(config.env))`. The loader throws a `ConfigError` naming each bad
 *   variable; `buildServer` calls this function at start-up, so `npm start` stops with that message.
 * Shared services (database, fault knobs, traffic, Salesforce auth) reach a pattern only through the
 * `PatternDependencies` its `register(app, deps)` receives.
 *
 * To add a pattern: import its module and add one line below.
 */
export function patternModules(config: AppConfig): PatternModule[] {
  return [
    createRemoteCallInModule({
      salesforce: config.salesforce,
      config: loadRemoteCallInConfig(config.env)
    }),
    requestReplyModule,
    // Paging tokens are signed with the shared secret, so next-page links survive a restart.
    createDataVirtualizationModule({
      tokenSecret: config.sharedSecret,
      publicUrl: config.explicitPublicUrl,
      ...loadDataVirtualizationConfig(config.env)
    }),
    createBatchSyncModule({
      tokenSecret: config.sharedSecret,
      config: loadBatchSyncConfig(config.env)
    }),
    createFireAndForgetModule({ config: loadFireAndForgetConfig(config.env) }),
    createUiUpdateModule({ salesforce: config.salesforce, config: loadUiUpdateConfig(config.env) }),
    createUiIntegrationModule({ config: loadUiIntegrationConfig(config.env) }),
    createEventDrivenModule({ topic: loadEventDrivenConfig(config.env).topic })
  ];
}
