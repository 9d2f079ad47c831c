import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SalesforceConnectionConfig } from '../config';
import { errorResponses, HttpError, type TypeBoxProvider } from '../http';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { createSalesforceAuth, type SalesforceAuth } from '../salesforce';
import { OrgCaller } from './caller';
import { loadRemoteCallInConfig, type CallInConfig } from './config';
import { formatSummary, runCallIn } from './run';

export const PATTERN_NAME = 'remote-call-in';

export interface RemoteCallInModuleOptions {
  /** Where the org is (`config.salesforce`, from the `SF_*` settings). */
  readonly salesforce: SalesforceConnectionConfig;
  /** Retry and batch settings; read from `CALL_IN_*` when omitted. */
  readonly config?: CallInConfig;
  /** Tests hand in a ready session source; otherwise one is built from `salesforce` on first use. */
  readonly auth?: SalesforceAuth;
}

export const RunRequest = Type.Object(
  {
    orders: Type.Integer({ minimum: 1, maximum: 1000, description: 'Orders to generate and send' }),
    customers: Type.Optional(
      Type.Boolean({
        description: 'Upsert their customers with the Composite API first (default true)'
      })
    )
  },
  { additionalProperties: false }
);
export type RunRequest = Static<typeof RunRequest>;

export const RunResponse = Type.Object({
  ok: Type.Boolean(),
  sent: Type.Integer(),
  created: Type.Integer(),
  existing: Type.Integer(),
  replayedBatches: Type.Integer(),
  rejected: Type.Integer(),
  skipped: Type.Integer(),
  /** The same text `npm run call-in` prints. */
  summary: Type.String()
});
export type RunResponse = Static<typeof RunResponse>;

/**
 * The ERP's half of Remote Call-In. The work is a client (`npm run call-in`); this module lets the console start the
 * same run: `POST /remote-call-in/runs {orders}` generates web-shop orders from the ERP's data, upserts their
 * customers (Composite API) and pushes the orders into the org's `/services/apexrest/v1/orders`, then answers with
 * the summary. 503 `SALESFORCE_NOT_CONFIGURED` when no `SF_*` connection is set.
 */
export function createRemoteCallInModule(options: RemoteCallInModuleOptions): PatternModule {
  const config = options.config ?? loadRemoteCallInConfig();
  let auth = options.auth;
  return {
    name: PATTERN_NAME,
    title: 'Remote Call-In',
    summary:
      'Pushes web-shop orders into the org (Apex REST, idempotent) and customers (Composite API).',
    register(app: FastifyInstance, deps: PatternDependencies): void {
      app.withTypeProvider<TypeBoxProvider>().post(
        '/runs',
        {
          schema: {
            summary: 'Generate web-shop orders from the ERP data and push them into Salesforce',
            body: RunRequest,
            response: {
              200: RunResponse,
              ...errorResponses({ 400: undefined, 503: 'No Salesforce connection is configured.' })
            }
          }
        },
        async (request) => {
          if (auth === undefined) {
            if (options.salesforce.mode === 'none') {
              throw new HttpError(
                503,
                'SALESFORCE_NOT_CONFIGURED',
                'No Salesforce connection: set SF_TARGET_ORG, SF_INSTANCE_URL + SF_ACCESS_TOKEN, or SF_CLIENT_ID (OAuth).'
              );
            }
            auth = createSalesforceAuth(options.salesforce);
          }
          const summary = await runCallIn(deps.db, new OrgCaller(auth, config), {
            orders: request.body.orders,
            batchSize: config.batchSize,
            upsertCustomers: request.body.customers !== false
          });
          const target = `${(await auth.session()).instanceUrl}/services/apexrest/v1/orders`;
          deps.traffic.note(PATTERN_NAME, `call-in run: ${summary.created} created`, {
            ok: summary.ok,
            rejected: summary.rejected.length
          });
          return {
            ok: summary.ok,
            sent: summary.sent,
            created: summary.created,
            existing: summary.existing,
            replayedBatches: summary.replayedBatches,
            rejected: summary.rejected.length,
            skipped: summary.skipped.length,
            summary: formatSummary(summary, target)
          };
        }
      );
    }
  };
}
