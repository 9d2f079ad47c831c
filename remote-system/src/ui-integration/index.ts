import { readFileSync } from 'node:fs';
import path from 'node:path';
import formbody from '@fastify/formbody';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxProvider } from '../http';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { loadUiIntegrationConfig, type UiIntegrationConfig } from './config';
import { RECORD_ID_PARAMETER, type PriceChosenPayload } from './contract';
import { renderProblemPage, renderToolPage, type ToolPage } from './page';
import { PricingError, PricingTool, type Quote } from './pricing';
import {
  CanvasRejection,
  isTrustedInstance,
  REJECTION,
  verifySignedRequest,
  type CanvasRequest
} from './signed-request';
import { WriteBackError, writeBackPrice } from './write-back';

export const PATTERN_NAME = 'ui-integration';

/** What the canvas routes put in `config.ownAuthentication` (see `src/auth/bearer.ts`). */
export const CANVAS_AUTHENTICATION = 'canvas-signed-request';

export interface UiIntegrationModuleOptions {
  /** Pattern settings; read from `UI_INTEGRATION_*` when omitted. */
  readonly config?: UiIntegrationConfig;
  /** Clock in milliseconds for the signed request's age (tests move it). */
  readonly now?: () => number;
  /** HTTP client of the write-back (global `fetch` by default). */
  readonly fetch?: typeof fetch;
}

const PUBLIC_DIR = path.join(__dirname, 'public');

/** Opportunity ids: key prefix 006, 15 or 18 characters. */
const OPPORTUNITY_ID = /^006[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;

const CanvasForm = Type.Object({
  signed_request: Type.Optional(Type.String()),
  productCode: Type.Optional(Type.String({ maxLength: 20 })),
  quantity: Type.Optional(Type.String({ maxLength: 7 }))
});
type CanvasFormBody = Static<typeof CanvasForm>;

/**
 * The ERP's half of UI Integration: its pricing tool as a Canvas app inside the Opportunity page.
 *
 * - `POST /ui-integration/canvas` is the canvas URL: Salesforce POSTs the signed request there; the page is shown only
 *   once the signature, algorithm and age check out.
 * - `POST /ui-integration/canvas/quote` prices a product and quantity; `POST /ui-integration/canvas/apply` writes the
 *   price to the Opportunity with the user's token from the signed request. Both carry the signed request again
 *   (a hidden field) and verify it again: the ERP keeps no session, no cookie, no token.
 *
 * These routes are opened by a browser inside a Salesforce frame, not called with the ERP's bearer secret: they set
 * `config.ownAuthentication` (the signed request is their authentication) and are hidden from the OpenAPI documents.
 */
export function createUiIntegrationModule(options: UiIntegrationModuleOptions = {}): PatternModule {
  const config = options.config ?? loadUiIntegrationConfig();
  return {
    name: PATTERN_NAME,
    title: 'UI Integration',
    summary:
      'The ERP pricing tool shown inside the Opportunity page as a Canvas app, trusted only through a verified signed request.',
    async register(scope: FastifyInstance, deps: PatternDependencies): Promise<void> {
      await registerCanvas(scope, deps, config, options);
    }
  };
}

async function registerCanvas(
  scope: FastifyInstance,
  deps: PatternDependencies,
  config: UiIntegrationConfig,
  options: UiIntegrationModuleOptions
): Promise<void> {
  // Salesforce POSTs the signed request as an HTML form; the parser exists in this pattern's context only.
  await scope.register(formbody, { bodyLimit: config.maxRequestBytes });
  const app = scope.withTypeProvider<TypeBoxProvider>();
  const pricing = new PricingTool(deps.db);
  const assets = {
    script: readFileSync(path.join(PUBLIC_DIR, 'canvas.js')),
    styles: readFileSync(path.join(PUBLIC_DIR, 'canvas.css'))
  };
  /** Origins a page may load scripts from besides its own (the org's instance, for the Canvas SDK). */
  const scriptOrigins = new WeakMap<FastifyRequest, string>();

  // Framing and caching, on every answer of this context (pages, problem pages, assets). Set in onSend so they win
  // over anything a server-wide hook (helmet) set earlier; X-Frame-Options would forbid the Salesforce frame.
  scope.addHook('onSend', async (request, reply, payload) => {
    const instance = scriptOrigins.get(request);
    reply.header(
      'content-security-policy',
      [
        "default-src 'none'",
        `script-src 'self'${instance === undefined ? '' : ` ${instance}`}`,
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        `frame-ancestors ${config.frameAncestors.join(' ')}`
      ].join('; ')
    );
    reply.removeHeader('x-frame-options');
    reply.header('cache-control', 'no-store');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-content-type-options', 'nosniff');
    return payload;
  });

  scope.setErrorHandler(async (error: FastifyError, request, reply) => {
    const { status, code, message } = problemOf(error);
    if (status >= 500) request.log.error({ err: error }, 'canvas request failed');
    else request.log.info({ code }, message);
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(renderProblemPage(status, code, message, request.id));
  });

  const verify = (request: FastifyRequest, body: CanvasFormBody | undefined): CanvasRequest => {
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw new CanvasRejection(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'The canvas page accepts the form Salesforce POSTs (application/x-www-form-urlencoded) only.'
      );
    }
    const canvas = verifySignedRequest(body?.signed_request, {
      secret: config.consumerSecret,
      ...(config.maxAgeSeconds === undefined ? {} : { maxAgeSeconds: config.maxAgeSeconds }),
      maxLength: config.maxRequestBytes,
      ...(options.now === undefined ? {} : { now: options.now })
    });
    if (!isTrustedInstance(canvas.client.instanceUrl, config.instanceHosts)) {
      throw new CanvasRejection(
        403,
        REJECTION.UNTRUSTED_INSTANCE,
        `The signed request points at ${canvas.client.instanceUrl}, which is not a Salesforce host this ERP trusts (UI_INTEGRATION_INSTANCE_HOSTS).`
      );
    }
    scriptOrigins.set(request, new URL(canvas.client.instanceUrl).origin);
    return canvas;
  };

  const basePage = (canvas: CanvasRequest, signedRequest: string): ToolPage => {
    const record = opportunityOf(canvas);
    return {
      canvas,
      signedRequest,
      recordId: record.id,
      recordName: record.name,
      products: pricing.products(),
      sdkUrl: `${canvas.client.instanceUrl}/canvas/sdk/js/${config.apiVersion}/canvas-all.js`
    };
  };

  const html = (reply: FastifyReply, status: number, body: string): FastifyReply =>
    reply.code(status).type('text/html; charset=utf-8').send(body);

  const routeOptions = {
    bodyLimit: config.maxRequestBytes,
    config: { ownAuthentication: CANVAS_AUTHENTICATION },
    schema: { hide: true, body: CanvasForm }
  };

  app.post('/canvas', routeOptions, async (request, reply) => {
    const canvas = verify(request, request.body);
    const page = basePage(canvas, request.body.signed_request ?? '');
    deps.traffic.note(
      PATTERN_NAME,
      `canvas opened by ${canvas.context.user.userName} on ${page.recordId}`
    );
    return html(reply, 200, renderToolPage(page));
  });

  app.post('/canvas/quote', routeOptions, async (request, reply) => {
    const canvas = verify(request, request.body);
    const page = basePage(canvas, request.body.signed_request ?? '');
    try {
      const quote = quoteFrom(pricing, request.body);
      return html(reply, 200, renderToolPage({ ...page, quote }));
    } catch (error) {
      if (!(error instanceof PricingError)) throw error;
      return html(
        reply,
        422,
        renderToolPage({ ...page, problem: { code: error.code, message: error.message } })
      );
    }
  });

  app.post('/canvas/apply', routeOptions, async (request, reply) => {
    const canvas = verify(request, request.body);
    const page = basePage(canvas, request.body.signed_request ?? '');
    let quote: Quote;
    try {
      quote = quoteFrom(pricing, request.body);
    } catch (error) {
      if (!(error instanceof PricingError)) throw error;
      return html(
        reply,
        422,
        renderToolPage({ ...page, problem: { code: error.code, message: error.message } })
      );
    }
    const currencyProblem = currencyMismatch(canvas, quote);
    if (currencyProblem !== undefined) {
      return html(
        reply,
        422,
        renderToolPage({
          ...page,
          quote,
          problem: { code: 'CURRENCY_MISMATCH', message: currencyProblem }
        })
      );
    }
    try {
      await writeBackPrice({
        session: {
          instanceUrl: canvas.client.instanceUrl,
          accessToken: canvas.client.oauthToken,
          apiVersion: config.apiVersion
        },
        recordId: page.recordId,
        priceCents: quote.totalCents,
        basis: quote.basis,
        timeoutMs: config.writeBackTimeoutMs,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch })
      });
    } catch (error) {
      if (!(error instanceof WriteBackError)) throw error;
      request.log.info({ code: error.code, status: error.status }, 'write-back refused');
      deps.traffic.note(PATTERN_NAME, `write-back to ${page.recordId} refused: ${error.code}`);
      return html(
        reply,
        error.status,
        renderToolPage({ ...page, quote, problem: { code: error.code, message: error.message } })
      );
    }
    const saved: PriceChosenPayload = {
      recordId: page.recordId,
      price: quote.totalCents / 100,
      currency: quote.product.currency,
      basis: quote.basis
    };
    deps.traffic.note(
      PATTERN_NAME,
      `${canvas.context.user.userName} wrote ${saved.price} ${saved.currency} to ${page.recordId}`
    );
    return html(reply, 200, renderToolPage({ ...page, quote, saved }));
  });

  // Salesforce opens the canvas URL with a POST; a GET (a bookmark, the page opened outside Salesforce) gets a page
  // that says so rather than a bare 404.
  app.get(
    '/canvas',
    { config: { ownAuthentication: CANVAS_AUTHENTICATION }, schema: { hide: true } },
    async (request, reply) => {
      reply.header('allow', 'POST');
      return html(
        reply,
        405,
        renderProblemPage(
          405,
          'METHOD_NOT_ALLOWED',
          'Open the pricing tool from an Opportunity in Salesforce: it POSTs the signed request this page needs.',
          request.id
        )
      );
    }
  );

  // Static assets without data: no authentication to check.
  const asset = { config: { ownAuthentication: 'none (static asset)' }, schema: { hide: true } };
  app.get('/canvas/app.js', asset, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(assets.script)
  );
  app.get('/canvas/styles.css', asset, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(assets.styles)
  );
}

/** The Opportunity in context: the record the page sits on (`entityFields`), else the `recordId` parameter. */
function opportunityOf(canvas: CanvasRequest): { id: string; name: string | undefined } {
  const { record, parameters } = canvas.context.environment;
  const attributes = record?.attributes as { type?: unknown } | undefined;
  const fromRecord = attributes?.type === 'Opportunity' ? record?.Id : undefined;
  const id = fromRecord ?? parameters?.[RECORD_ID_PARAMETER];
  if (typeof id !== 'string' || !OPPORTUNITY_ID.test(id)) {
    throw new CanvasRejection(
      400,
      REJECTION.NO_RECORD,
      `The signed request carries no Opportunity id (the record, or the "${RECORD_ID_PARAMETER}" canvas parameter): open the tool from an Opportunity page.`
    );
  }
  const name = fromRecord === undefined ? undefined : record?.Name;
  return { id, name: typeof name === 'string' ? name : undefined };
}

function quoteFrom(pricing: PricingTool, body: CanvasFormBody): Quote {
  const raw = body.quantity ?? '';
  if (!/^\d{1,6}$/.test(raw)) {
    throw new PricingError('INVALID_QUANTITY', 'The quantity must be a whole number.');
  }
  return pricing.quote(body.productCode ?? '', Number(raw));
}

/**
 * Why the price cannot be written in the record's currency, or undefined. Single-currency orgs: the org currency.
 * Multi-currency orgs: the record's `CurrencyIsoCode`, which the page has only when the host lists it in
 * `entityFields`; without it the page refuses rather than guess.
 */
function currencyMismatch(canvas: CanvasRequest, quote: Quote): string | undefined {
  const { organization, environment } = canvas.context;
  const target = organization.multicurrencyEnabled
    ? environment.record?.CurrencyIsoCode
    : organization.currencyIsoCode;
  if (typeof target !== 'string') {
    return 'The signed request does not say which currency the Opportunity is in; the price was not written.';
  }
  if (target !== quote.product.currency) {
    return `The ERP prices ${quote.product.productCode} in ${quote.product.currency}, the Opportunity is in ${target}; the price was not written.`;
  }
  return undefined;
}

/** Status, code and message of any error thrown in this context, for the problem page. */
function problemOf(error: FastifyError): { status: number; code: string; message: string } {
  if (error instanceof CanvasRejection) {
    return { status: error.status, code: error.code, message: error.message };
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      code: REJECTION.TOO_LARGE,
      message: 'The form is larger than the canvas page accepts (UI_INTEGRATION_MAX_REQUEST_BYTES).'
    };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message:
        'The canvas page accepts the form Salesforce POSTs (application/x-www-form-urlencoded) only.'
    };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return {
      status,
      code: error.validation ? 'VALIDATION_FAILED' : 'BAD_REQUEST',
      message: error.message
    };
  }
  return {
    status: 500,
    code: 'INTERNAL_ERROR',
    message:
      'The ERP failed while showing the pricing tool; quote the correlation id to the ERP team.'
  };
}
