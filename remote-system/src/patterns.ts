import { dataVirtualizationModule } from './data-virtualization';
import type { PatternModule } from './pattern-module';
import { requestReplyModule } from './request-reply';

/**
 * The pattern modules the server mounts, each under `/<name>` behind the bearer authentication, in console order.
 * To add a pattern: import its module and add one line below.
 */
export function patternModules(): PatternModule[] {
  return [requestReplyModule, dataVirtualizationModule];
}
