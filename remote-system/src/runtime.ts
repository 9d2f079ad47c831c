import type Database from 'better-sqlite3';
import type { AppConfig } from './config';
import type { InMemoryFaultSettings } from './faults';
import type { EndpointDescription, PatternModule } from './pattern-module';
import type { TrafficLog } from './traffic';

/**
 * What the composition root (`server.ts`) exposes on the Fastify instance as `app.erp`, for `main.ts`, the console and
 * tests. It lives in its own module so that the console, which reads it, does not import the server that mounts the
 * console (the arrows run one way: `server.ts` → `console/` → `runtime.ts`). Patterns do not read it: they get what
 * they need through `PatternDependencies`.
 */
export interface ErpRuntime {
  readonly config: AppConfig;
  readonly db: Database.Database;
  readonly faults: InMemoryFaultSettings;
  readonly traffic: TrafficLog;
  readonly patterns: readonly PatternModule[];
  /**
   * Each pattern's documented routes (those with a schema `summary`), paths relative to `/<name>`, in registration
   * order: what the console lists and `npm start` prints.
   */
  readonly endpoints: ReadonlyMap<string, readonly EndpointDescription[]>;
}

declare module 'fastify' {
  interface FastifyInstance {
    erp: ErpRuntime;
  }
}
