import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Database from 'better-sqlite3';

/**
 * The contract between the remote system's composition root (`server.ts`) and each pattern's half under
 * `remote-system/src/<pattern>/`. The server registers every module's routes under `/<name>` (for example
 * `/request-reply/credit/C-000001`) behind the inbound authentication.
 *
 * A route describes itself once, in its schema: `summary` is the line the console and the start-up print show and
 * the OpenAPI document carries; routes with `hide: true` or without a summary are left out of those lists.
 */
export interface PatternModule {
  /** Folder name of the pattern, the same on both halves: `request-reply`, `data-virtualization`, … */
  readonly name: string;
  /** Human title shown in the console. */
  readonly title: string;
  /** One-line description of the business step this half plays. */
  readonly summary: string;
  /**
   * Salesforce External Service registrations generated from this module's OpenAPI operations
   * (`npm run generate:external-services`; a test fails while a committed file is stale).
   */
  readonly externalServices?: readonly ExternalServiceDescriptor[];
  /** Registers the routes; called inside an encapsulated Fastify context already prefixed with `/<name>`. */
  register(app: FastifyInstance, deps: PatternDependencies): Promise<void> | void;
}

/** One route as the console lists it and `npm start` prints it, derived from the route's schema `summary`. */
export interface EndpointDescription {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path relative to the module prefix, in Fastify's syntax (`/credit/:customerNumber`). */
  readonly path: string;
  readonly description: string;
}

/**
 * An External Service registration (`force-app/main/<id>/externalServiceRegistrations/<name>...-meta.xml`) that
 * embeds the OpenAPI 3.0 document of some of this module's operations, so Flow Builder offers them as actions.
 */
export interface ExternalServiceDescriptor {
  /** Developer name, also the file name: `ERP_Request_Reply`. */
  readonly name: string;
  readonly label: string;
  readonly description: string;
  /** Named Credential the registration calls through (`ERP`): it supplies the base URL and the bearer secret. */
  readonly namedCredential: string;
  /** Path of the XML file, relative to the repository root. */
  readonly file: string;
  /** `info` of the embedded document. */
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  /**
   * The operations to embed, by `operationId` (the route schema's `operationId`). Salesforce names the Flow
   * actions after them, so renaming one breaks every Flow that uses it.
   */
  readonly operationIds: readonly string[];
}

/**
 * What the composition root hands to each pattern module: the one way shared services reach a pattern (a pattern
 * never reads them from the Fastify instance, from `process.env` or from another module's singletons).
 */
export interface PatternDependencies {
  readonly db: Database.Database;
  readonly faults: FaultSettings;
  readonly traffic: TrafficRecorder;
  /**
   * Base URL the org reaches this server on (`PUBLIC_URL`), for absolute links such as OData `@odata.nextLink`.
   * Optional so a pattern's unit tests can build dependencies without it.
   */
  readonly publicUrl?: string;
  /**
   * Applies this pattern's console fault knobs and the request's `X-Fault-*` headers (see `src/faults.ts`); true
   * when the reply has been dealt with. A route starts with `if (await deps.applyFaults(request, reply)) return reply;`.
   */
  applyFaults(
    request: FastifyRequest,
    reply: FastifyReply,
    options?: FaultOptions
  ): Promise<boolean>;
}

/** Per-call tuning of {@link PatternDependencies.applyFaults}, for tests. */
export interface FaultOptions {
  /** Source of the error-rate draw (default `Math.random`). */
  readonly random?: () => number;
  /** Ceiling of an injected hang before a 504 (default 130 s). */
  readonly maxHangMs?: number;
}

/** Per-pattern fault knobs settable from the console (and per request through headers, by the pattern itself). */
export interface FaultSettings {
  get(pattern: string): FaultProfile;
  set(pattern: string, profile: Partial<FaultProfile>): FaultProfile;
  /** Registers a pending latency or hang so closing the server can end it; returns the function that forgets it. */
  track?(controller: AbortController): () => void;
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
