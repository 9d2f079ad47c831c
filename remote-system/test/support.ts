import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type AppConfig } from '../src/config';
import { openDatabase, seedDatabase } from '../src/db';
import type { InMemoryFaultSettings } from '../src/faults';
import { HttpError } from '../src/http';
import type { PatternModule } from '../src/pattern-module';
import { buildServer } from '../src/server';

export const TEST_SECRET = 'test-secret-0123456789abcdef';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'erp-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A small, fast seed for tests (the 100k-shipment default is for `npm start`). */
export const SMALL_SEED = { customers: 25, products: 12, orders: 30, shipments: 200 } as const;

export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return loadConfig({
    ERP_SHARED_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    PORT: '0',
    DATABASE_PATH: ':memory:',
    ...overrides
  });
}

/** A pattern module that exercises the shared machinery: faults, validation, thrown errors, slow work. */
export function demoPattern(options: { slowMs?: number; maxHangMs?: number } = {}): PatternModule {
  return {
    name: 'demo',
    title: 'Demo pattern',
    summary: 'Routes used by the remote-system tests.',
    register(app, deps) {
      app.get(
        '/echo',
        { schema: { summary: 'Echo, with fault injection' } },
        async (request, reply) => {
          if (await deps.applyFaults(request, reply, { maxHangMs: options.maxHangMs })) {
            return reply;
          }
          deps.traffic.note('demo', 'echo answered');
          return {
            ok: true,
            customers: deps.db.prepare('SELECT count(*) FROM customers').pluck().get()
          };
        }
      );
      app.post(
        '/items',
        {
          schema: {
            summary: 'Validated JSON body',
            body: {
              type: 'object',
              required: ['name', 'quantity'],
              additionalProperties: false,
              properties: {
                name: { type: 'string', minLength: 1 },
                quantity: { type: 'integer', minimum: 1 }
              }
            }
          }
        },
        async (request, reply) => reply.code(201).send({ received: request.body })
      );
      app.get('/slow', async () => {
        await new Promise((resolve) => setTimeout(resolve, options.slowMs ?? 300));
        return { finished: true };
      });
      app.get('/boom', async () => {
        throw new Error('database password is hunter2');
      });
      app.get('/conflict', async () => {
        throw new HttpError(409, 'CONFLICT', 'Already exists.', [
          { field: 'externalId', reason: 'is taken' }
        ]);
      });
    }
  };
}

/**
 * The one test harness of the remote system: the real composition root (`buildServer`: bearer authentication,
 * correlation ids, the shared error shape, fault knobs, traffic, OpenAPI) listening on 127.0.0.1 port 0 over a real
 * SQLite database. Tests speak real HTTP to `baseUrl`. Every pattern's tests start their server through here.
 */
export interface TestServerOptions {
  /** Modules to mount (default: {@link demoPattern}). Pass `patternModules(testConfig())` for the real set. */
  readonly patterns?: readonly PatternModule[];
  /**
   * The database to serve. Default: a temporary SQLite file, migrated and seeded with {@link SMALL_SEED} (or
   * `seed`). A database passed in is closed by `close()` too.
   */
  readonly db?: Database.Database;
  /** Seed for the default database (ignored when `db` is given). */
  readonly seed?: Parameters<typeof seedDatabase>[1];
  /** Environment variables over {@link testConfig}'s (which sets the secret, `LOG_LEVEL=silent` and port 0). */
  readonly config?: Record<string, string>;
  /** Keep the server's JSON log lines in `logs`. */
  readonly captureLogs?: boolean;
}

export interface TestServer {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly db: Database.Database;
  /** The configuration the server runs with (from {@link testConfig}). */
  readonly config: AppConfig;
  /** The console's fault knobs (`app.erp.faults`). */
  readonly faults: InMemoryFaultSettings;
  /** Log lines written by the server (JSON objects), when started with `captureLogs`. */
  readonly logs: Record<string, unknown>[];
  /**
   * A real HTTP request to `path` (already encoded, starting with `/`), with the bearer secret unless `init.headers`
   * sets `authorization` (pass `authorization: ''` to send none). The body is read once, as text.
   */
  request(path: string, init?: RequestInit): Promise<TestResponse>;
  /** Stops the server and closes the database (idempotent). */
  close(): Promise<void>;
}

/** A response read as text, with its JSON parsed on demand. */
export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON (throws when it is not JSON). */
  json<T = unknown>(): T;
}

/** Same as {@link TestServer}; the name the first tests used. */
export type RunningServer = TestServer;

/** Starts the real composition root on 127.0.0.1, port 0 (see {@link TestServerOptions}). */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  let cleanup = (): void => undefined;
  let db = options.db;
  if (db === undefined) {
    const temp = tempDir();
    cleanup = temp.cleanup;
    db = openDatabase(path.join(temp.dir, 'erp.sqlite'));
    seedDatabase(db, options.seed ?? SMALL_SEED);
  }
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    }
  });
  const config = testConfig(options.config);
  const app = await buildServer(config, {
    db,
    patterns: options.patterns ?? [demoPattern()],
    logger: options.captureLogs ? { level: 'info', stream } : false
  });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const database = db;
  let closed = false;
  return {
    app,
    baseUrl,
    db: database,
    config,
    faults: app.erp.faults,
    logs,
    async request(requestPath, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', auth.authorization);
      else if (headers.get('authorization') === '') headers.delete('authorization');
      const response = await fetch(`${baseUrl}${requestPath}`, { ...init, headers });
      return readResponse(response);
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      database.close();
      cleanup();
    }
  };
}

/** {@link startTestServer} under the name the first tests used. */
export const startServer = startTestServer;

/** Stops a server started by {@link startTestServer} (same as `server.close()`). */
export function stopTestServer(server: TestServer): Promise<void> {
  return server.close();
}

/** Reads a fetch `Response` as a {@link TestResponse}. */
export async function readResponse(response: Response): Promise<TestResponse> {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: <T = unknown>() => JSON.parse(text) as T
  };
}

export const auth = { authorization: `Bearer ${TEST_SECRET}` } as const;

export async function getJson(
  url: string,
  init: RequestInit = {}
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined
  };
}
