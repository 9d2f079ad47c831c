import type { SalesforceSession } from '../salesforce';
import { WRITE_BACK_FIELDS, WRITE_BACK_OBJECT } from './contract';

/**
 * Writes the chosen price to the Opportunity through the REST API's sObject update
 * (`PATCH /services/data/vXX.X/sobjects/Opportunity/<id>`), with the user's own session from the signed request:
 * the org applies that user's sharing, field-level security and validation rules, so the ERP can change only what
 * the user could change in Salesforce.
 *
 * The session lives in this call only: it is not stored, logged or cached, and there is no retry with another
 * identity. A single `fetch` rather than a client library: one call, no token refresh (a refresh token would have
 * to be kept), and every answer mapped below.
 */

export interface WriteBackRequest {
  readonly session: SalesforceSession;
  readonly recordId: string;
  readonly priceCents: number;
  readonly basis: string;
  readonly timeoutMs: number;
  /** The HTTP client (tests may wrap it); global `fetch` by default. */
  readonly fetch?: typeof fetch;
}

/** Why the org refused (or could not be reached): the page shows `message`, with the org's code when it sent one. */
export class WriteBackError extends Error {
  constructor(
    /** The status the canvas page answers with. */
    readonly status: 401 | 403 | 404 | 422 | 502 | 504,
    readonly code: string,
    message: string
  ) {
    super(message);
    this.name = 'WriteBackError';
  }
}

/** The request body: the two fields, nothing else. */
export function writeBackBody(priceCents: number, basis: string): Record<string, unknown> {
  return {
    [WRITE_BACK_FIELDS.price]: priceCents / 100,
    [WRITE_BACK_FIELDS.basis]: basis
  };
}

export async function writeBackPrice(request: WriteBackRequest): Promise<void> {
  const { session } = request;
  const url = `${session.instanceUrl}/services/data/v${session.apiVersion}/sobjects/${WRITE_BACK_OBJECT}/${encodeURIComponent(request.recordId)}`;
  let response: Response;
  try {
    response = await (request.fetch ?? fetch)(url, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${session.accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json'
      },
      body: JSON.stringify(writeBackBody(request.priceCents, request.basis)),
      signal: AbortSignal.timeout(request.timeoutMs),
      redirect: 'error'
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new WriteBackError(
      timedOut ? 504 : 502,
      timedOut ? 'SALESFORCE_TIMEOUT' : 'SALESFORCE_UNREACHABLE',
      timedOut
        ? `Salesforce did not answer within ${request.timeoutMs} ms; the price may or may not be saved — reload the record to check.`
        : 'Salesforce could not be reached; nothing was saved.'
    );
  }
  if (response.status === 204 || response.status === 200) {
    await response.arrayBuffer();
    return;
  }
  const { code, message } = await salesforceError(response);
  const detail = `${message}${code === undefined ? '' : ` (${code})`}`;
  switch (response.status) {
    case 401:
      throw new WriteBackError(
        401,
        code ?? 'INVALID_SESSION_ID',
        `Salesforce no longer accepts this page's session: reload the record page. ${detail}`
      );
    case 403:
      throw new WriteBackError(
        403,
        code ?? 'FORBIDDEN',
        `Salesforce refused the update for your user: ${detail}`
      );
    case 404:
      throw new WriteBackError(
        404,
        code ?? 'NOT_FOUND',
        `The Opportunity ${request.recordId} was not found or is not visible to you: ${detail}`
      );
    case 400:
      throw new WriteBackError(
        422,
        code ?? 'UPDATE_REFUSED',
        `Salesforce refused the new price: ${detail}`
      );
    default:
      throw new WriteBackError(
        502,
        code ?? 'SALESFORCE_ERROR',
        `Salesforce answered ${response.status}: ${detail}`
      );
  }
}

/** The first `{ errorCode, message }` of a REST API error body (an array), when there is one. */
async function salesforceError(
  response: Response
): Promise<{ code: string | undefined; message: string }> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as unknown;
    const first = (Array.isArray(body) ? body[0] : body) as
      { errorCode?: unknown; message?: unknown } | undefined;
    if (first && typeof first.message === 'string') {
      return {
        code: typeof first.errorCode === 'string' ? first.errorCode : undefined,
        message: first.message.slice(0, 500)
      };
    }
  } catch {
    // not JSON: fall through
  }
  return { code: undefined, message: text.slice(0, 200) || response.statusText };
}
