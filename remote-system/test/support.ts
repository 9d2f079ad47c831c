import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type AppConfig } from '../src/config';
import { openDatabase, seedDatabase } from '../src/db';
import { applyFaults } from '../src/faults';
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
    endpoints: [
      { method: 'GET', path: '/echo', description: 'Echo, with fault injection' },
      { method: 'POST', path: '/items', description: 'Validated JSON body' }
    ],
    register(app, deps) {
      app.get('/echo', async (request, reply) => {
        if (await applyFaults('demo', request, reply, { maxHangMs: options.maxHangMs })) {
          return reply;
        }
        deps.traffic.note('demo', 'echo answered');
        return {
          ok: true,
          customers: deps.db.prepare('SELECT count(*) FROM customers').pluck().get()
        };
      });
      app.post(
        '/items',
        {
          schema: {
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

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly baseUrl: string;
  readonly db: Database.Database;
  /** Log lines written by the server (JSON objects), when started with `captureLogs`. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts the real composition root on 127.0.0.1, port 0, over a seeded temp-file database. */
export async function startServer(
  options: {
    config?: Record<string, string>;
    patterns?: PatternModule[];
    captureLogs?: boolean;
  } = {}
): Promise<RunningServer> {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(path.join(dir, 'erp.sqlite'));
  seedDatabase(db, SMALL_SEED);
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    }
  });
  const app = await buildServer(testConfig(options.config), {
    db,
    patterns: options.patterns ?? [demoPattern()],
    logger: options.captureLogs ? { level: 'info', stream } : false
  });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  let closed = false;
  return {
    app,
    baseUrl,
    db,
    logs,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      db.close();
      cleanup();
    }
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
