/**
 * Data Virtualization, remote half: a read-only OData 4.0 producer over the ERP's shipments, for Salesforce Connect
 * (External Data Source `ERP_Shipments` → External Object `Shipment__x`). Service root:
 * `/data-virtualization/odata/`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { SHIPMENTS, type EntitySetDefinition } from './entity';
import { ODataQueryError, errorBody } from './errors';
import { tokenize } from './filter-parser';
import { metadataDocument, serviceDocument } from './metadata';
import { PageTokens } from './paging';
import { EntityQueries, MAX_PAGE_SIZE, parseQueryOptions, type RawQuery } from './query';

export const PATTERN_NAME = 'data-virtualization';
const SERVICE_PATH = `/${PATTERN_NAME}/odata/`;
const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8';

export interface DataVirtualizationOptions {
  /** Key for signing `$skiptoken`s; derive it from the shared secret so tokens survive a restart. */
  readonly tokenSecret?: string;
  /** Rows per server-driven page (1–2,000). */
  readonly pageSize?: number;
  /** Base URL used in `@odata.nextLink` and `@odata.context`; defaults to the request's own host. */
  readonly publicUrl?: string;
  /** SQLite page cache for the connection, in MB (see `DataVirtualizationConfig`); SQLite's default when absent. */
  readonly pageCacheMb?: number;
  /** Memory-mapped I/O size in MB (see `DataVirtualizationConfig`); off when absent or 0. */
  readonly mmapMb?: number;
}

/**
 * Absolute service root as the caller reached it (`PUBLIC_URL` when set — `fixedRoot`, computed once — else the
 * forwarded or direct host).
 */
function serviceRoot(request: FastifyRequest, fixedRoot: string | undefined): string {
  if (fixedRoot !== undefined) return fixedRoot;
  const protocol = firstHeaderValue(request, 'x-forwarded-proto') ?? request.protocol;
  const host = firstHeaderValue(request, 'x-forwarded-host') ?? request.host;
  return `${protocol}://${host}${SERVICE_PATH}`;
}

/** The first comma-separated entry of a header (as a proxy chain appends them), trimmed. */
function firstHeaderValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim();
}

/**
 * The resource path after `/odata`, percent-decoded, without leading slashes; undefined when the encoding is
 * malformed. Plain loops and no decoding when there is no `%`: this runs on every request, key lookups included.
 */
function resourcePath(rawUrl: string): string | undefined {
  const query = rawUrl.indexOf('?');
  const pathPart = query === -1 ? rawUrl : rawUrl.slice(0, query);
  const marker = pathPart.indexOf('/odata');
  let resource = pathPart.slice(marker + '/odata'.length);
  if (resource.includes('%')) {
    try {
      resource = decodeURIComponent(resource);
    } catch {
      return undefined;
    }
  }
  let start = 0;
  while (resource.charCodeAt(start) === 0x2f /* '/' */) start++;
  return start === 0 ? resource : resource.slice(start);
}

/** Whether the query string gave any option at all (a bare key lookup has none). */
function hasOptions(query: RawQuery): boolean {
  for (const name in query) if (Object.hasOwn(query, name)) return true;
  return false;
}

/** `Prefer: odata.maxpagesize=N` (bounded by the producer's own page size). */
function preferredPageSize(request: FastifyRequest): number | undefined {
  const prefer = request.headers.prefer;
  const text = Array.isArray(prefer) ? prefer.join(',') : prefer;
  const match = text ? /(?:^|[,;\s])odata\.maxpagesize\s*=\s*"?(\d{1,9})"?/i.exec(text) : null;
  const value = match ? Number(match[1]) : undefined;
  return value !== undefined && value > 0 ? value : undefined;
}

/** `Shipments('SHP-1')` or `Shipments(ShipmentNumber='SHP-1')` → the key, else undefined. */
function parseKeySegment(segment: string, set: EntitySetDefinition): string | undefined {
  if (!segment.startsWith(`${set.name}(`) || !segment.endsWith(')')) return undefined;
  let inner = segment.slice(set.name.length + 1, -1);
  const named = `${set.key.name}=`;
  if (inner.startsWith(named)) inner = inner.slice(named.length);
  const tokens = tokenize(inner);
  const [first, second] = tokens;
  if (first?.kind !== 'string' || second?.kind !== 'end' || typeof first.value !== 'string') {
    throw new ODataQueryError('The key must be one string literal', 'key');
  }
  return first.value;
}

function sendODataError(reply: FastifyReply, error: ODataQueryError): FastifyReply {
  return reply
    .code(error.status)
    .header('OData-Version', '4.0')
    .type('application/json;charset=utf-8')
    .send(errorBody(error));
}

export function createDataVirtualizationModule(
  options: DataVirtualizationOptions = {}
): PatternModule {
  const sets = [SHIPMENTS];
  const metadata = metadataDocument(sets);
  const tokens = new PageTokens(options.tokenSecret);
  const pageSize = options.pageSize ?? MAX_PAGE_SIZE;
  const fixedRoot = options.publicUrl
    ? `${options.publicUrl.replace(/\/+$/, '')}${SERVICE_PATH}`
    : undefined;

  return {
    name: PATTERN_NAME,
    title: 'Data Virtualization',
    summary:
      'OData 4.0 producer over the ERP shipments for Salesforce Connect (External Object Shipment__x): ' +
      'filters, sorting, search, counts and keyset server-driven paging.',
    register(app: FastifyInstance, deps: PatternDependencies) {
      // Sized from configuration: deep pages walk index pages that then stay cached (the connection is shared, so
      // every pattern's reads benefit; SQLite ignores both for an in-memory database).
      if (options.pageCacheMb !== undefined) {
        deps.db.pragma(`cache_size = -${Math.round(options.pageCacheMb * 1024)}`);
      }
      if (options.mmapMb !== undefined && options.mmapMb > 0) {
        deps.db.pragma(`mmap_size = ${Math.round(options.mmapMb * 1_048_576)}`);
      }
      const queries = new EntityQueries(deps.db, SHIPMENTS, tokens, pageSize);

      const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
        if (await deps.applyFaults(request, reply)) return reply;
        reply.header('OData-Version', '4.0');
        const resource = resourcePath(request.raw.url ?? '');
        if (resource === undefined) {
          return sendODataError(reply, new ODataQueryError('Malformed URL encoding', 'path'));
        }
        const query = (request.query ?? {}) as RawQuery;
        try {
          const root = serviceRoot(request, fixedRoot);
          if (resource === '') return reply.type(JSON_TYPE).send(serviceDocument(root, sets));
          if (resource === '$metadata') {
            return reply.type('application/xml;charset=utf-8').send(metadata);
          }
          const set = SHIPMENTS;
          if (resource === set.name || resource === `${set.name}/$count`) {
            const parsed = parseQueryOptions(query, set);
            if (resource.endsWith('/$count')) {
              return reply.type('text/plain;charset=utf-8').send(String(queries.count(parsed)));
            }
            const preferred = preferredPageSize(request);
            const page = queries.page(parsed, preferred);
            if (preferred !== undefined) {
              reply.header(
                'Preference-Applied',
                `odata.maxpagesize=${Math.min(preferred, pageSize)}`
              );
            }
            const body: Record<string, unknown> = {
              '@odata.context': `${root}$metadata#${set.name}${
                parsed.selectText === undefined
                  ? ''
                  : `(${parsed.select.map((p) => p.name).join(',')})`
              }`
            };
            if (page.count !== undefined) body['@odata.count'] = page.count;
            body.value = page.rows;
            if (page.nextToken)
              body['@odata.nextLink'] = nextLink(root, set.name, query, page.nextToken);
            return reply.type(JSON_TYPE).send(body);
          }
          const key = parseKeySegment(resource, set);
          if (key !== undefined) {
            // Without options the selection is every property (what parsing an empty query gives), so the parse
            // is skipped; any option ($select, $format, an unsupported one) is parsed and checked as before.
            const select = hasOptions(query)
              ? parseQueryOptions(query, set).select
              : set.properties;
            const entity = queries.byKey(key, select);
            if (!entity) {
              return sendODataError(
                reply,
                new ODataQueryError(`No shipment '${key}'`, 'key', undefined, 404, 'NotFound')
              );
            }
            return reply
              .type(JSON_TYPE)
              .send({ '@odata.context': `${root}$metadata#${set.name}/$entity`, ...entity });
          }
          return sendODataError(
            reply,
            new ODataQueryError(`No resource '${resource}'`, 'path', undefined, 404, 'NotFound')
          );
        } catch (error) {
          if (error instanceof ODataQueryError) return sendODataError(reply, error);
          throw error;
        }
      };

      // One handler reads the resource path itself (OData key syntax and `$` segments are not Fastify routes); the
      // named routes exist so that each resource is described once, by its summary (console, start-up, OpenAPI).
      const describe = (summary: string) => ({ schema: { summary } });
      app.get('/odata', describe('OData service document'), handle);
      app.get('/odata/$metadata', describe('CSDL read by Validate and Sync'), handle);
      app.get(
        '/odata/Shipments',
        describe(
          'Shipments: $filter $select $orderby $top $skip $count $search, @odata.nextLink paging'
        ),
        handle
      );
      app.get('/odata/Shipments/$count', describe('Row count (text/plain)'), handle);
      app.get('/odata/*', describe("One shipment by key: Shipments('SHP-0000000001')"), handle);
      app.route({
        method: ['POST', 'PUT', 'PATCH', 'DELETE'],
        url: '/odata/*',
        handler: async (_request, reply) =>
          sendODataError(
            reply.header('Allow', 'GET'),
            new ODataQueryError(
              'This producer is read-only (the external data source is not writable)',
              'method',
              undefined,
              405,
              'MethodNotAllowed'
            )
          )
      });
    }
  };
}

/**
 * The next page's URL: the same query options (without `$top`/`$skip`, now in the token) plus `$skiptoken`; values
 * percent-encoded (spaces as `%20`, as OData clients expect), option names kept readable.
 */
function nextLink(root: string, setName: string, query: RawQuery, token: string): string {
  const parts: string[] = [];
  for (const name of ['$filter', '$search', '$orderby', '$select', '$count', '$format']) {
    const value = query[name];
    if (typeof value === 'string') parts.push(`${name}=${encodeURIComponent(value)}`);
  }
  parts.push(`$skiptoken=${token}`);
  return `${root}${setName}?${parts.join('&')}`;
}
