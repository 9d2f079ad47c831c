import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../http';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import type { BatchSyncConfig } from './config';
import { CursorCodec } from './cursor';
import { CustomerPages } from './customers';
import { CustomersPage, CustomersQuery } from './schemas';

export const PATTERN_NAME = 'batch-sync';

export interface BatchSyncModuleOptions {
  /** Signs the page cursors (the server's shared secret), so a cursor survives a restart. */
  readonly tokenSecret: string;
  /** Pattern settings (`loadBatchSyncConfig(config.env)`). */
  readonly config: BatchSyncConfig;
}

/**
 * The ERP's half of Batch Data Synchronization, Salesforce-initiated direction: the paged customer-balance API the
 * nightly Batch Apex job calls once per chunk of Accounts. (The other direction, ERP → Salesforce in millions of
 * rows, is the Bulk API 2.0 loader in `bulk/`, run by `npm run sync:bulk`.)
 */
export function createBatchSyncModule(options: BatchSyncModuleOptions): PatternModule {
  const { config } = options;
  return {
    name: PATTERN_NAME,
    title: 'Batch Data Synchronization',
    summary:
      'Cursor-paged customer balances for the nightly Batch Apex sync; Bulk API 2.0 loader for the catalog.',
    register(app: FastifyInstance, deps: PatternDependencies): void {
      const pages = new CustomerPages(deps.db, new CursorCodec(options.tokenSecret), {
        defaultSize: config.defaultPageSize,
        maxSize: config.maxPageSize
      });
      app.get<{ Querystring: CustomersQuery }>(
        '/customers',
        {
          schema: {
            summary: 'Customer credit limits and balances, one bounded page per call',
            querystring: CustomersQuery,
            response: {
              200: CustomersPage,
              ...errorResponses({
                400: 'Bad cursor, page above the bound, or bad customer numbers.'
              })
            }
          }
        },
        async (request, reply) => {
          if (await deps.applyFaults(request, reply)) return reply;
          const page = pages.page(request.query);
          deps.traffic.note(PATTERN_NAME, `customer page: ${page.items.length} customers`, {
            missing: page.missing.length,
            more: page.nextCursor !== undefined
          });
          return page;
        }
      );
    }
  };
}
