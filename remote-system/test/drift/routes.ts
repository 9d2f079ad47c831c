/**
 * The remote half as Fastify sees it: every route a pattern module registers, with its schemas, `$ref`s to shared
 * schemas (`app.addSchema`) resolved. These are the schemas Fastify validates requests and serialises replies
 * with, so they are the truth of what crosses the wire, whatever file or library defines them.
 */
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { PatternModule } from '../../src/pattern-module';
import type { JsonSchema } from './contract';

export interface RecordedRoute {
  readonly method: string;
  /** Full URL template, prefix included: `/request-reply/credit/:customerNumber`. */
  readonly url: string;
  readonly schema: FastifySchema | undefined;
}

/**
 * The same module, recording each route it registers into `routes` (HEAD routes Fastify adds for GET are left out).
 * Mount the result with the real harness (`startServer({ patterns: [recordRoutes(module, routes)] })`).
 */
export function recordRoutes(module: PatternModule, routes: RecordedRoute[]): PatternModule {
  const copy = Object.assign(
    Object.create(Object.getPrototypeOf(module) as object) as object,
    module
  ) as PatternModule;
  return Object.assign(copy, {
    register(app: FastifyInstance, deps: Parameters<PatternModule['register']>[1]) {
      app.addHook('onRoute', function (this: FastifyInstance, route) {
        const shared = this.getSchemas() as Record<string, unknown>;
        for (const method of [route.method].flat()) {
          if (method === 'HEAD') continue;
          routes.push({
            method,
            url: route.url,
            schema: route.schema && (resolveSchemaRefs(route.schema, shared) as FastifySchema)
          });
        }
      });
      return module.register(app, deps);
    }
  });
}

/** A deep copy of `schema` with each `{ $ref: id }` to a shared schema replaced by that schema (siblings kept). */
export function resolveSchemaRefs(
  schema: unknown,
  shared: Readonly<Record<string, unknown>>
): unknown {
  const byId = new Map<string, unknown>();
  for (const [key, value] of Object.entries(shared)) {
    byId.set(key, value);
    const id = (value as { $id?: unknown } | null)?.$id;
    if (typeof id === 'string') byId.set(id, value);
  }
  const resolve = (node: unknown, depth: number): unknown => {
    if (depth > 50) throw new Error('schema $refs nest deeper than 50 levels (a cycle?)');
    if (Array.isArray(node)) return node.map((item) => resolve(item, depth + 1));
    if (!node || typeof node !== 'object') return node;
    const { $ref, ...rest } = node as { $ref?: unknown } & Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) copy[key] = resolve(value, depth + 1);
    if (typeof $ref !== 'string') return copy;
    const target = byId.get($ref.replace(/#$/, ''));
    if (target === undefined) return { ...copy, $ref };
    return { ...(resolve(target, depth + 1) as Record<string, unknown>), ...copy };
  };
  return resolve(schema, 0);
}

/** The schema of a recorded route's reply with this status, or undefined. */
export function replySchema(
  route: RecordedRoute | undefined,
  status: number
): JsonSchema | undefined {
  const response = route?.schema?.response as Record<string, JsonSchema> | undefined;
  return response?.[String(status)];
}
