import { createBatchSyncModule } from './batch-sync';
import type { AppConfig } from './config';
import { createDataVirtualizationModule } from './data-virtualization';
import type { PatternModule } from './pattern-module';
import { requestReplyModule } from './request-reply';

/**
 * The pattern modules the server mounts, each under `/<name>` behind the bearer authentication, in console order.
 * Built from the validated configuration (never from `process.env` directly), so values from `.env` apply too.
 * To add a pattern: import its module and add one line below.
 */
export function patternModules(config: AppConfig): PatternModule[] {
  return [
    requestReplyModule,
    // Paging tokens are signed with the shared secret, so next-page links survive a restart.
    createDataVirtualizationModule({
      tokenSecret: config.sharedSecret,
      publicUrl: config.explicitPublicUrl
    }),
    createBatchSyncModule({ tokenSecret: config.sharedSecret })
  ];
}
