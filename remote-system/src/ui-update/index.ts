/** UI Update Based on Data Changes, the ERP's half: the module the server mounts (see `module.ts`). */
export { createUiUpdateModule, PATTERN_NAME } from './module';
export type { UiUpdateModuleOptions } from './module';
