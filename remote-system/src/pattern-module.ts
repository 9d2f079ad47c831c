import type { FastifyInstance } from 'fastify';
import type Database from 'better-sqlite3';

/**
 * The contract between the remote system's composition root (`server.ts`) and each pattern's half under
 * `remote-system/src/<pattern>/`. The server registers every module's routes under `/<name>` (for example
 * `/request-reply/credit/C-000001`) behind the inbound authentication, and the console lists `endpoints`.
 */
export interface PatternModule {
  /** Folder name of the pattern, the same on both halves: `request-reply`, `data-virtualization`, … */
  readonly name: string;
  /** Human title shown in the console. */
  readonly title: string;
  /** One-line description of the business step this half plays. */
  readonly summary: string;
  /** Endpoints listed in the console and printed at start-up, paths relative to the module prefix. */
  readonly endpoints: readonly EndpointDescription[];
  /** Registers the routes; called inside an encapsulated Fastify context already prefixed with `/<name>`. */
  register(app: FastifyInstance, deps: PatternDependencies): Promise<void> | void;
}

export interface EndpointDescription {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly description: string;
}

/** What the composition root hands to each pattern module. */
export interface PatternDependencies {
  readonly db: Database.Database;
  readonly faults: FaultSettings;
  readonly traffic: TrafficRecorder;
  /**
   * Base URL the org reaches this server on (`PUBLIC_URL`), for absolute links such as OData `@odata.nextLink`.
   * Optional so a pattern's unit tests can build dependencies without it.
   */
  readonly publicUrl?: string;
}

/** Per-pattern fault knobs settable from the console (and per request through headers, by the pattern itself). */
export interface FaultSettings {
  get(pattern: string): FaultProfile;
  set(pattern: string, profile: Partial<FaultProfile>): FaultProfile;
}

export interface FaultProfile {
  /** Extra latency added before answering, in milliseconds. */
  readonly latencyMs: number;
  /** Fraction of requests (0–1) answered with `errorStatus`. */
  readonly errorRate: number;
  /** Status used for injected errors (for example 500 or 503). */
  readonly errorStatus: number;
  /** When true, requests never answer until the client gives up (to demonstrate timeouts). */
  readonly hang: boolean;
}

/** Records notable events for the console's live view, beyond the per-request traffic the server records itself. */
export interface TrafficRecorder {
  note(pattern: string, message: string, details?: Record<string, unknown>): void;
}
