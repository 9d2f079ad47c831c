import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { ERROR_DESCRIPTIONS, ErrorBodySchema } from './http/errors';
import { ref } from './http/schema';
import type { ExternalServiceDescriptor } from './pattern-module';

/**
 * The one OpenAPI generator of the remote system: `@fastify/swagger` reads the routes Fastify actually registered,
 * with the TypeBox schemas they validate with, so the document cannot drift from the code. Everything else is a
 * view of that document: `/openapi.json` (all routes), `/<pattern>/openapi.json` (one pattern's routes) and the
 * Salesforce External Service registrations (chosen operations, rendered into metadata XML).
 *
 * Version 3.0.x (not 3.1) because Salesforce External Services registers OpenAPI 3.0 documents.
 */

export type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
  security?: Record<string, string[]>[];
} & Record<string, unknown>;

export type OpenApiOperation = { operationId?: string; summary?: string } & Record<string, unknown>;

const SECURITY_SCHEME = 'erpBearer';

/**
 * Options for `@fastify/swagger`: named schemas (`$id`) become `#/components/schemas/<$id>`, and every route that
 * `isOpen` does not exempt documents the bearer requirement and its 401 answer.
 */
export function swaggerOptions(
  serverUrl: string,
  isOpen: (url: string) => boolean
): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'ERP remote system',
        version: '1.0.0',
        description:
          'The ERP on the other side of the Salesforce integration patterns. Pattern routes need ' +
          '`Authorization: Bearer <ERP_SHARED_SECRET>`; every response carries `X-Correlation-Id`.'
      },
      servers: [{ url: serverUrl }],
      components: { securitySchemes: { [SECURITY_SCHEME]: { type: 'http', scheme: 'bearer' } } }
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`
    },
    transform: ({ schema, url }) => {
      if (isOpen(url)) return { schema, url };
      const base = (schema ?? {}) as Record<string, unknown>;
      const response = (base.response ?? {}) as Record<string, unknown>;
      return {
        schema: {
          ...base,
          security: [{ [SECURITY_SCHEME]: [] }],
          response: { ...response, 401: ref(ErrorBodySchema, ERROR_DESCRIPTIONS[401]) }
        },
        url
      } as ReturnType<NonNullable<FastifyDynamicSwaggerOptions['transform']>>;
    }
  };
}

/** Every `$ref` to `#/components/schemas/<name>` inside `value`. */
function schemaRefs(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) schemaRefs(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') {
        const match = /^#\/components\/schemas\/(.+)$/.exec(child);
        if (match?.[1]) found.add(match[1]);
      } else {
        schemaRefs(child, found);
      }
    }
  }
  return found;
}

/**
 * A view of the server's document: only the operations `include` accepts, only the component schemas they reach
 * (followed transitively), with its own `info` and `servers`. Paths and operations keep the server's order.
 */
export function subsetDocument(
  document: OpenApiDocument,
  options: {
    readonly include: (path: string, method: string, operation: OpenApiOperation) => boolean;
    readonly info?: OpenApiDocument['info'];
    readonly serverUrl: string;
  }
): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!options.include(path, method, operation)) continue;
      paths[path] ??= {};
      (paths[path] as Record<string, OpenApiOperation>)[method] = operation;
    }
  }
  const available = document.components?.schemas ?? {};
  const needed = schemaRefs(paths, new Set());
  for (let grew = true; grew;) {
    grew = false;
    for (const name of [...needed]) {
      const before = needed.size;
      schemaRefs(available[name], needed);
      if (needed.size > before) grew = true;
    }
  }
  const schemas = Object.fromEntries(
    Object.entries(available).filter(([name]) => needed.has(name))
  );
  return {
    openapi: document.openapi,
    info: options.info ?? document.info,
    servers: [{ url: options.serverUrl }],
    paths,
    components: {
      ...(Object.keys(schemas).length > 0 ? { schemas } : {}),
      securitySchemes: document.components?.securitySchemes ?? {}
    }
  };
}

/** The operation ids of a document, in document order. */
export function operationIds(document: OpenApiDocument): string[] {
  return Object.values(document.paths)
    .flatMap((item) => Object.values(item).map((operation) => operation.operationId))
    .filter((id): id is string => typeof id === 'string');
}

/**
 * The document an External Service registration embeds: the descriptor's operations only, with a relative server
 * (the Named Credential supplies the base URL). Throws when an operation id the registration promises is missing,
 * since Flows call the actions by those names.
 */
export function externalServiceDocument(
  document: OpenApiDocument,
  descriptor: ExternalServiceDescriptor
): OpenApiDocument {
  const wanted = new Set(descriptor.operationIds);
  const subset = subsetDocument(document, {
    include: (_path, _method, operation) =>
      operation.operationId !== undefined && wanted.has(operation.operationId),
    info: { ...descriptor.info },
    serverUrl: '/'
  });
  const missing = descriptor.operationIds.filter((id) => !operationIds(subset).includes(id));
  if (missing.length > 0) {
    throw new Error(`${descriptor.name}: no route has operationId ${missing.join(', ')}`);
  }
  return subset;
}

/**
 * Compact JSON with spaces and the XML-special characters written as JSON `\uXXXX` escapes: the same JSON value,
 * but one unbreakable word with no XML entities, so the XML formatter can neither re-flow it (a line break inside a
 * JSON string would make it invalid) nor pad entities with spaces.
 */
export function unbreakableJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[ <>&]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
  );
}

const xmlText = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The `ExternalServiceRegistration` metadata XML embedding `document` (from {@link externalServiceDocument}). */
export function renderExternalServiceRegistration(
  descriptor: ExternalServiceDescriptor,
  document: OpenApiDocument
): string {
  const operations = operationIds(document)
    .map(
      (id) => `  <operations>\n    <active>true</active>\n    <name>${id}</name>\n  </operations>`
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8" ?>
<ExternalServiceRegistration xmlns="http://soap.sforce.com/2006/04/metadata">
  <description>${xmlText(descriptor.description)}</description>
  <label>${xmlText(descriptor.label)}</label>
  <namedCredentialReference>${descriptor.namedCredential}</namedCredentialReference>
${operations}
  <registrationProviderType>Custom</registrationProviderType>
  <schema>${unbreakableJson(document)}</schema>
  <schemaType>OpenApi3</schemaType>
  <status>Complete</status>
</ExternalServiceRegistration>
`;
}
