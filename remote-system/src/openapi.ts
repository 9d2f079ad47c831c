import type { RouteOptions } from 'fastify';
import { errorBodySchema } from './http/errors';

type Schema = Record<string, unknown>;

interface CollectedRoute {
  readonly method: string;
  readonly url: string;
  readonly schema?: Schema;
  readonly secured: boolean;
}

/**
 * Builds an OpenAPI 3.0 document from the routes the server actually registered (Fastify's `onRoute` hook) and the
 * JSON Schemas they validate with, so the document cannot drift from the code. Routes without schemas still appear
 * with their path and method.
 */
export class OpenApiCollector {
  private readonly routes: CollectedRoute[] = [];

  constructor(private readonly isSecured: (url: string) => boolean) {}

  readonly onRoute = (route: RouteOptions): void => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      this.routes.push({
        method: method.toLowerCase(),
        url: route.url,
        schema: route.schema as Schema | undefined,
        secured: this.isSecured(route.url)
      });
    }
  };

  document(serverUrl: string): Schema {
    const paths: Record<string, Record<string, Schema>> = {};
    for (const route of this.routes) {
      if (route.schema?.hide === true) continue;
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      paths[path] ??= {};
      (paths[path] as Record<string, Schema>)[route.method] = this.operation(route);
    }
    return {
      openapi: '3.0.3',
      info: {
        title: 'ERP remote system',
        version: '1.0.0',
        description:
          'The ERP on the other side of the Salesforce integration patterns. Pattern routes need ' +
          '`Authorization: Bearer <ERP_SHARED_SECRET>`; every response carries `X-Correlation-Id`.'
      },
      servers: [{ url: serverUrl }],
      components: {
        securitySchemes: { erpBearer: { type: 'http', scheme: 'bearer' } },
        schemas: { Error: errorBodySchema }
      },
      paths
    };
  }

  private operation(route: CollectedRoute): Schema {
    const schema = route.schema ?? {};
    const parameters: Schema[] = [];
    for (const [location, key] of [
      ['path', 'params'],
      ['query', 'querystring']
    ] as const) {
      const part = schema[key] as
        { properties?: Record<string, Schema>; required?: string[] } | undefined;
      for (const [name, property] of Object.entries(part?.properties ?? {})) {
        parameters.push({
          name,
          in: location,
          required: location === 'path' || (part?.required ?? []).includes(name),
          schema: property
        });
      }
    }
    for (const match of route.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
      const name = match[1] as string;
      if (!parameters.some((p) => p.in === 'path' && p.name === name)) {
        parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
      }
    }
    const responses: Record<string, Schema> = {};
    for (const [status, body] of Object.entries((schema.response as Schema | undefined) ?? {})) {
      responses[status] = {
        description: `HTTP ${status}`,
        content: { 'application/json': { schema: body } }
      };
    }
    if (route.secured) {
      responses['401'] = {
        description: 'Missing or wrong bearer secret',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
      };
    }
    if (Object.keys(responses).length === 0) responses.default = { description: 'Response' };
    return {
      ...(typeof schema.summary === 'string' ? { summary: schema.summary } : {}),
      ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(schema.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schema.body } }
            }
          }
        : {}),
      responses,
      ...(route.secured ? { security: [{ erpBearer: [] }] } : {})
    };
  }
}

declare module 'fastify' {
  interface FastifySchema {
    /** Leave the route out of `/openapi.json` (console assets, the document itself). */
    hide?: boolean;
    summary?: string;
    description?: string;
    tags?: readonly string[];
  }
}
