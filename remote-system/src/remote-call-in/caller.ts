import type { SalesforceAuth, SalesforceSession } from '../salesforce';
import { isRetryableStatus, retryDelayMs, sleep, type RetryPolicy } from './retry';

/** One HTTP call to the org, relative to the session's instance URL. */
export interface OrgCall {
  readonly method: 'GET' | 'POST' | 'PATCH';
  /** Path below the instance URL; a function when it needs the session (the REST API version). */
  readonly path: string | ((session: SalesforceSession) => string);
  /** The exact bytes to send: serialised once, so every retry sends the same body. */
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The org's final answer, after any retries. */
export interface OrgAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  readonly json: unknown;
  readonly text: string;
  /** HTTP requests sent for this call, the one after a token refresh included. */
  readonly attempts: number;
  /** Whether a 401 led to a token refresh. */
  readonly refreshed: boolean;
}

/** No answer at all after the last attempt (network errors or timeouts), or a refresh that was refused. */
export class OrgCallError extends Error {
  constructor(
    message: string,
    readonly attempts: number
  ) {
    super(message);
    this.name = 'OrgCallError';
  }
}

export interface CallerOptions extends RetryPolicy {
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  /** Told before each wait, for progress output. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

/**
 * Sends calls to the org with the retry rules of `retry.ts`: network errors, timeouts, 5xx and 429 are retried with
 * backoff and jitter up to `maxAttempts`; a 401 refreshes the session once (through {@link SalesforceAuth}) and is
 * sent again at once; any other answer is returned as it is, for the caller to read.
 */
export class OrgCaller {
  constructor(
    private readonly auth: SalesforceAuth,
    private readonly options: CallerOptions
  ) {}

  async call(call: OrgCall): Promise<OrgAnswer> {
    const doFetch = this.options.fetch ?? fetch;
    let session = await this.auth.session();
    let refreshed = false;
    let sent = 0;
    for (let attempt = 1; ; attempt += 1) {
      let reason: string;
      let answer: OrgAnswer | undefined;
      sent += 1;
      try {
        const path = typeof call.path === 'function' ? call.path(session) : call.path;
        const response = await doFetch(`${session.instanceUrl}${path}`, {
          method: call.method,
          headers: {
            authorization: `Bearer ${session.accessToken}`,
            accept: 'application/json',
            ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...call.headers
          },
          ...(call.body === undefined ? {} : { body: call.body }),
          signal: AbortSignal.timeout(this.options.timeoutMs)
        });
        const text = await response.text();
        answer = {
          status: response.status,
          headers: response.headers,
          json: parseJson(text),
          text,
          attempts: sent,
          refreshed
        };
        reason = `HTTP ${response.status}`;
      } catch (error) {
        const name = (error as Error).name;
        reason =
          name === 'TimeoutError' || name === 'AbortError'
            ? `no answer within ${this.options.timeoutMs} ms`
            : `network error: ${describeNetworkError(error)}`;
      }

      if (answer?.status === 401 && !refreshed) {
        refreshed = true;
        try {
          session = await this.auth.refresh(session);
        } catch (error) {
          throw new OrgCallError(`the org answered 401 and ${(error as Error).message}`, sent);
        }
        attempt -= 1; // the retry after a refresh is not a failure of the call
        continue;
      }
      if (answer !== undefined && !isRetryableStatus(answer.status)) return answer;
      if (attempt >= this.options.maxAttempts) {
        if (answer !== undefined) return answer;
        throw new OrgCallError(`gave up after ${sent} attempt(s): ${reason}`, sent);
      }
      const delayMs = retryDelayMs(
        this.options,
        attempt,
        answer?.headers.get('retry-after') ?? null,
        this.options.random
      );
      if (delayMs === undefined) {
        // The server asked for a longer pause than the policy allows: stop here and report its answer.
        if (answer !== undefined) return answer;
        throw new OrgCallError(reason, sent);
      }
      this.options.onRetry?.({ attempt, delayMs, reason });
      await sleep(delayMs);
    }
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
