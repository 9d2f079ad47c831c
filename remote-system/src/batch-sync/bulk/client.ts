import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { SalesforceAuth, SalesforceSession } from '../../salesforce/auth';

/**
 * A small Bulk API 2.0 **ingest** client over `fetch`, for the loader. Why not `@jsforce/jsforce-node`'s `bulk2`:
 * its `uploadData` sends a job's data in one request with no split at the 150 MB limit, and its result getters read
 * a whole result file into memory (`getSuccessfulResults` parses the CSV into an array), which a multi-million-row
 * load cannot afford; it also brings its own session handling, where this project has one (`SalesforceAuth`).
 * Five REST resources are little code: this client uploads from a file (so an upload can be repeated after a
 * refreshed session) and hands result files back as streams.
 *
 * Every request carries the session's bearer token; a 401 (`INVALID_SESSION_ID`) gets one `refresh()` and one
 * repeat, then a {@link BulkAuthError}. Idempotent requests (GET, PATCH of a state) are repeated on 5xx and network
 * errors with a short backoff; a job creation is not (it would create a second job).
 */
export type IngestOperation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';
export type JobState =
  'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['JobComplete', 'Failed', 'Aborted']);

/** The part of the ingest job info the loader reads. */
export interface IngestJobInfo {
  readonly id: string;
  readonly state: JobState;
  readonly object: string;
  readonly operation: string;
  readonly numberRecordsProcessed?: number;
  readonly numberRecordsFailed?: number;
  readonly errorMessage?: string;
}

export type ResultKind = 'successfulResults' | 'failedResults' | 'unprocessedrecords';

/** Read size of an upload from its file: enough per syscall, little held at once. */
const UPLOAD_CHUNK_BYTES = 256 * 1024;

/** The org answered with an error; `errorCode` is the first code of its error list. */
export class BulkApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string | undefined
  ) {
    super(message);
    this.name = 'BulkApiError';
  }
}

/** The org rejected the session even after a refresh: wrong token, expired fixed token, revoked app. */
export class BulkAuthError extends BulkApiError {
  constructor(message: string, status: number, errorCode: string | undefined) {
    super(message, status, errorCode);
    this.name = 'BulkAuthError';
  }
}

export interface Bulk2ClientOptions {
  readonly fetch?: typeof fetch;
  /** Repeats of an idempotent request after a 5xx or a network error (default 3). */
  readonly retries?: number;
  /** First backoff between those repeats in ms, doubled each time (default 500). */
  readonly retryDelayMs?: number;
}

export class Bulk2Client {
  private readonly fetchImpl: typeof fetch;
  private readonly retries: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly auth: SalesforceAuth,
    options: Bulk2ClientOptions = {}
  ) {
    this.fetchImpl = options.fetch ?? fetch;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  async createJob(spec: {
    object: string;
    operation: IngestOperation;
    externalIdFieldName?: string;
  }): Promise<IngestJobInfo> {
    const response = await this.send('POST', '', {
      idempotent: false,
      json: { ...spec, contentType: 'CSV', lineEnding: 'LF', columnDelimiter: 'COMMA' }
    });
    return (await response.json()) as IngestJobInfo;
  }

  /**
   * Uploads a CSV file as the job's data (one PUT; the caller keeps each file under the upload limit), streamed
   * from disk: `fetch` pulls the next chunk only when the socket took the last one, so a slow server holds back
   * the reading (tested). The ArrayBuffers that grow during a fast upload (`npm run bench -- --batch-sync
   * --timeline DIR`) are chunks already sent, waiting for a garbage collection, not data read ahead.
   */
  async upload(jobId: string, file: string): Promise<void> {
    const size = (await fs.promises.stat(file)).size;
    const response = await this.send('PUT', `/${jobId}/batches`, {
      idempotent: false,
      body: () => ({
        // undici's fetch accepts an async iterable body and reads it on demand (pull), one chunk at a time.
        body: fs.createReadStream(file, { highWaterMark: UPLOAD_CHUNK_BYTES }),
        headers: { 'content-type': 'text/csv', 'content-length': String(size) }
      })
    });
    await response.body?.cancel();
  }

  setState(jobId: string, state: 'UploadComplete' | 'Aborted'): Promise<IngestJobInfo> {
    return this.send('PATCH', `/${jobId}`, { idempotent: true, json: { state } }).then(
      (r) => r.json() as Promise<IngestJobInfo>
    );
  }

  info(jobId: string): Promise<IngestJobInfo> {
    return this.send('GET', `/${jobId}`, { idempotent: true }).then(
      (r) => r.json() as Promise<IngestJobInfo>
    );
  }

  /** A result file as a byte stream, never held whole in memory. */
  async results(jobId: string, kind: ResultKind): Promise<Readable> {
    const response = await this.send('GET', `/${jobId}/${kind}/`, { idempotent: true });
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  }

  private async send(
    method: string,
    path: string,
    request: {
      idempotent: boolean;
      json?: unknown;
      body?: () => { body: AsyncIterable<Uint8Array>; headers: Record<string, string> };
    }
  ): Promise<Response> {
    let session = await this.auth.session();
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const url = `${session.instanceUrl}/services/data/v${session.apiVersion}/jobs/ingest${path}`;
      const payload = request.body?.();
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers: {
            authorization: `Bearer ${session.accessToken}`,
            accept: 'application/json',
            ...(request.json === undefined
              ? {}
              : { 'content-type': 'application/json; charset=UTF-8' }),
            ...payload?.headers
          },
          ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
          ...(payload === undefined ? {} : { body: payload.body, duplex: 'half' })
        } as RequestInit);
      } catch (error) {
        if (request.idempotent && attempt < this.retries) {
          await sleep(this.retryDelayMs * 2 ** attempt);
          continue;
        }
        throw new BulkApiError(
          `${method} ${url} failed: ${(error as Error).message}`,
          0,
          undefined
        );
      }
      if (response.ok) return response;
      const { code, message } = await errorOf(response);
      if (response.status === 401) {
        if (!refreshed) {
          refreshed = true;
          session = await this.refresh(session);
          continue;
        }
        throw new BulkAuthError(
          `Salesforce rejected the session at ${session.instanceUrl} (401 ${code ?? ''}: ${message}); check the SF_* settings`,
          401,
          code
        );
      }
      if (request.idempotent && response.status >= 500 && attempt < this.retries) {
        await sleep(this.retryDelayMs * 2 ** attempt);
        continue;
      }
      throw new BulkApiError(
        `${method} ${path || '/'} answered ${response.status} ${code ?? ''}: ${message}`,
        response.status,
        code
      );
    }
  }

  private async refresh(rejected: SalesforceSession): Promise<SalesforceSession> {
    try {
      return await this.auth.refresh(rejected);
    } catch (error) {
      throw new BulkAuthError(
        `Salesforce rejected the session at ${rejected.instanceUrl} (401 INVALID_SESSION_ID) and it could not be renewed (${(error as Error).message}); check the SF_* settings`,
        401,
        'INVALID_SESSION_ID'
      );
    }
  }
}

/** Bulk API 2.0 errors are a JSON list `[{ errorCode, message }]`. */
async function errorOf(response: Response): Promise<{ code?: string; message: string }> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as unknown;
    const first = (Array.isArray(parsed) ? parsed[0] : parsed) as
      { errorCode?: unknown; message?: unknown } | undefined;
    if (first && typeof first.message === 'string') {
      return {
        ...(typeof first.errorCode === 'string' ? { code: first.errorCode } : {}),
        message: first.message
      };
    }
  } catch {
    // not JSON: fall through
  }
  return { message: text.slice(0, 300) || response.statusText };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
