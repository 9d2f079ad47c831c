/**
 * A local stand-in for the Salesforce **Bulk API 2.0 ingest** REST contract, for tests and the benchmark. Built
 * from the Bulk API 2.0 Developer Guide, not from a recording:
 *
 * | request | contract followed |
 * | --- | --- |
 * | `POST /services/data/vXX.X/jobs/ingest` | Create a Job: `object`, `operation`, `externalIdFieldName` (upsert), `contentType` CSV, `lineEnding` LF/CRLF, `columnDelimiter` COMMA; answers the job info with `state: "Open"` and `contentUrl` |
 * | `PUT …/jobs/ingest/<id>/batches` | Upload Job Data: `text/csv`, 201 with no body, only while `Open`; at most 150 MB **of base64-encoded content** per job (configurable here so tests can use a small limit) |
 * | `PATCH …/jobs/ingest/<id>` | `{"state":"UploadComplete"}` closes the upload and starts processing; `{"state":"Aborted"}` aborts |
 * | `GET …/jobs/ingest/<id>` | Job info: `state` Open → UploadComplete → InProgress → JobComplete / Failed / Aborted, `numberRecordsProcessed`, `numberRecordsFailed`, `errorMessage` |
 * | `GET …/successfulResults/` | CSV: `sf__Id`, `sf__Created`, then the uploaded columns as sent |
 * | `GET …/failedResults/` | CSV: `sf__Id`, `sf__Error` (`CODE:message`), then the uploaded columns |
 * | `GET …/unprocessedrecords/` | CSV: the uploaded columns of rows never processed (job aborted or failed) |
 * | `DELETE …/jobs/ingest/<id>` | 204 |
 * | any request without a valid `Authorization: Bearer` | 401 `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`, as the org answers |
 *
 * Not from the guide (our choices, marked where they are made): the status and error code for an upload over the
 * limit (413 `REQUEST_ENTITY_TOO_LARGE`) and for a request in the wrong job state (409 `INVALIDJOBSTATE`).
 *
 * Memory stays constant whatever the upload size: uploads are streamed to files, processed with `csv-parse` and
 * results written with `csv-stringify` to files that the result requests stream back.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify, type Stringifier } from 'csv-stringify';

export type JobState =
  'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

/** Outcome of one row: `undefined` = success, a string = the `sf__Error` value (`CODE:message`). */
export type RowDecision = (
  row: Readonly<Record<string, string>>,
  job: { readonly id: string; readonly object: string; readonly rowNumber: number }
) => string | undefined;

export interface Bulk2StandInOptions {
  /** Base64-encoded upload limit per job; the org's is 150 MB. */
  readonly maxUploadBytes?: number;
  /** Tokens the stand-in accepts. */
  readonly tokens?: readonly string[];
  /** Decides each row's outcome; every row succeeds by default. */
  readonly decide?: RowDecision;
  /** Makes a job end `Failed` after this many rows, with this message (the rest are unprocessed). */
  readonly failJob?: (job: {
    readonly id: string;
    readonly sequence: number;
  }) => { readonly afterRows: number; readonly message: string } | undefined;
  /** Aborts a job by itself after this many rows (an admin pressing Abort in Setup while it runs). */
  readonly abortJob?: (job: {
    readonly id: string;
    readonly sequence: number;
  }) => number | undefined;
  /** Time a job stays `UploadComplete` before processing starts, to make clients poll. */
  readonly queueDelayMs?: number;
  /**
   * Remember external ids so a second upsert of a key reports `sf__Created=false` with the same id. Off in the
   * benchmark, where 10M remembered keys would measure the stand-in rather than the loader.
   */
  readonly trackExisting?: boolean;
}

export interface JobInfo {
  id: string;
  operation: string;
  object: string;
  createdById: string;
  createdDate: string;
  systemModstamp: string;
  state: JobState;
  externalIdFieldName?: string;
  concurrencyMode: 'Parallel';
  contentType: 'CSV';
  apiVersion: number;
  contentUrl: string;
  lineEnding: 'LF' | 'CRLF';
  columnDelimiter: 'COMMA';
  jobType: 'V2Ingest';
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  retries: number;
  totalProcessingTime: number;
  apiActiveProcessingTime: number;
  apexProcessingTime: number;
  errorMessage?: string;
}

interface Job {
  info: JobInfo;
  sequence: number;
  dataFile: string;
  uploadedBase64Bytes: number;
  uploads: number;
  abortRequested: boolean;
  done: Promise<void>;
}

export interface Bulk2StandIn {
  /** `http://127.0.0.1:<port>`: the instance URL a client is given. */
  readonly instanceUrl: string;
  readonly jobs: ReadonlyMap<string, JobInfo>;
  /** Counts of requests by kind, for assertions on what a client did. */
  readonly requests: Record<string, number>;
  /** Makes a token invalid (a session that expired), so the next request with it gets 401. */
  revoke(token: string): void;
  accept(token: string): void;
  /** Data rows each job held when it was processed, in order of job creation. */
  rowsPerJob(): number[];
  close(): Promise<void>;
}

export const STAND_IN_TOKEN = 'stand-in-access-token';
export const ORG_UPLOAD_LIMIT = 150 * 1024 * 1024;
const SESSION_ERROR = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
const OPERATIONS = new Set(['insert', 'update', 'upsert', 'delete', 'hardDelete']);
const ID_PREFIX: Readonly<Record<string, string>> = { Account: '001', Product2: '01t' };

export async function startBulk2StandIn(options: Bulk2StandInOptions = {}): Promise<Bulk2StandIn> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulk2-stand-in-'));
  const limit = options.maxUploadBytes ?? ORG_UPLOAD_LIMIT;
  const tokens = new Set(options.tokens ?? [STAND_IN_TOKEN]);
  const jobs = new Map<string, Job>();
  const infos = new Map<string, JobInfo>();
  const existing = new Map<string, string>();
  const requests: Record<string, number> = {};
  const rowsPerJob: number[] = [];
  let jobCounter = 0;
  // Job ids are unique per org; a per-instance tag keeps them unique across stand-ins sharing one ledger.
  const instanceTag = Math.random().toString(36).slice(2, 7).padEnd(5, '0').toUpperCase();
  let recordCounter = 0;

  const count = (kind: string) => (requests[kind] = (requests[kind] ?? 0) + 1);

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        json(res, 500, [{ errorCode: 'UNKNOWN_EXCEPTION', message: String(error) }]);
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const match =
      /^\/services\/data\/v(\d+\.\d)\/jobs\/ingest(?:\/([^/]+)(?:\/([A-Za-z]+)\/?)?)?\/?$/.exec(
        url.pathname
      );
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined || !tokens.has(bearer)) {
      count('unauthorized');
      req.resume();
      return json(res, 401, SESSION_ERROR);
    }
    if (!match) {
      req.resume();
      return json(res, 404, [
        { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }
      ]);
    }
    const [, version, jobId, sub] = match;
    const method = req.method ?? 'GET';
    if (jobId === undefined) {
      if (method !== 'POST') return methodNotAllowed(req, res);
      count('create');
      return createJob(req, res, version!);
    }
    const job = jobs.get(jobId);
    if (!job) {
      req.resume();
      return json(res, 404, [{ errorCode: 'NOT_FOUND', message: `Job ${jobId} not found` }]);
    }
    if (sub === undefined) {
      if (method === 'GET') {
        count('info');
        return json(res, 200, job.info);
      }
      if (method === 'PATCH') {
        count('patch');
        return patchJob(req, res, job);
      }
      if (method === 'DELETE') {
        count('delete');
        jobs.delete(jobId);
        infos.delete(jobId);
        res.writeHead(204).end();
        return;
      }
      return methodNotAllowed(req, res);
    }
    if (sub === 'batches' && method === 'PUT') {
      count('upload');
      return upload(req, res, job);
    }
    const results: Record<string, string> = {
      successfulResults: 'successful',
      failedResults: 'failed',
      unprocessedrecords: 'unprocessed'
    };
    const kind = results[sub];
    if (kind !== undefined && method === 'GET') {
      count(sub);
      if (!['JobComplete', 'Failed', 'Aborted'].includes(job.info.state)) {
        return json(res, 409, [
          {
            errorCode: 'INVALIDJOBSTATE',
            message: `Job is ${job.info.state}; results come when it ends`
          }
        ]);
      }
      const file = path.join(dir, `${job.info.id}.${kind}.csv`);
      res.writeHead(200, { 'content-type': 'text/csv; charset=UTF-8' });
      if (!fs.existsSync(file)) return void res.end();
      await pipeline(fs.createReadStream(file), res);
      return;
    }
    return methodNotAllowed(req, res);
  }

  async function createJob(req: http.IncomingMessage, res: http.ServerResponse, version: string) {
    const body = (await readJson(req)) as Record<string, unknown> | undefined;
    const problems: string[] = [];
    const object = body?.object;
    const operation = body?.operation;
    if (typeof object !== 'string' || object === '') problems.push('object is required');
    if (typeof operation !== 'string' || !OPERATIONS.has(operation)) {
      problems.push(`operation must be one of ${[...OPERATIONS].join(', ')}`);
    }
    if (operation === 'upsert' && typeof body?.externalIdFieldName !== 'string') {
      problems.push('externalIdFieldName is required for upsert');
    }
    if (body?.contentType !== undefined && body.contentType !== 'CSV')
      problems.push('contentType must be CSV');
    const lineEnding = body?.lineEnding ?? 'LF';
    if (lineEnding !== 'LF' && lineEnding !== 'CRLF')
      problems.push('lineEnding must be LF or CRLF');
    if (body?.columnDelimiter !== undefined && body.columnDelimiter !== 'COMMA') {
      problems.push('this stand-in supports columnDelimiter COMMA only');
    }
    if (problems.length > 0) {
      return json(
        res,
        400,
        problems.map((message) => ({ errorCode: 'INVALIDJOB', message }))
      );
    }
    jobCounter++;
    const id = `750${instanceTag}${String(jobCounter).padStart(10, '0')}`;
    const now = new Date().toISOString();
    const info: JobInfo = {
      id,
      operation: operation as string,
      object: object as string,
      createdById: '005000000000001AAA',
      createdDate: now,
      systemModstamp: now,
      state: 'Open',
      ...(typeof body?.externalIdFieldName === 'string'
        ? { externalIdFieldName: body.externalIdFieldName }
        : {}),
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(version),
      contentUrl: `services/data/v${version}/jobs/ingest/${id}/batches`,
      lineEnding: lineEnding as 'LF' | 'CRLF',
      columnDelimiter: 'COMMA',
      jobType: 'V2Ingest',
      numberRecordsProcessed: 0,
      numberRecordsFailed: 0,
      retries: 0,
      totalProcessingTime: 0,
      apiActiveProcessingTime: 0,
      apexProcessingTime: 0
    };
    const job: Job = {
      info,
      sequence: jobCounter,
      dataFile: path.join(dir, `${id}.data.csv`),
      uploadedBase64Bytes: 0,
      uploads: 0,
      abortRequested: false,
      done: Promise.resolve()
    };
    jobs.set(id, job);
    infos.set(id, info);
    rowsPerJob.push(0);
    json(res, 200, info);
  }

  async function upload(req: http.IncomingMessage, res: http.ServerResponse, job: Job) {
    if (job.info.state !== 'Open') {
      req.resume();
      return json(res, 409, [
        { errorCode: 'INVALIDJOBSTATE', message: `Job is ${job.info.state}, not Open` }
      ]);
    }
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('text/csv')) {
      req.resume();
      return json(res, 400, [
        { errorCode: 'INVALIDCONTENTTYPE', message: 'Upload job data as text/csv' }
      ]);
    }
    // Count as the org does: the limit applies to the base64 encoding of everything uploaded to the job.
    const out = fs.createWriteStream(job.dataFile, { flags: job.uploads === 0 ? 'w' : 'a' });
    let raw = 0;
    let tooLarge = false;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      raw += chunk.length;
      // Keep reading an oversized body (so the client gets the answer) but store none of the rest.
      if (job.uploadedBase64Bytes + Math.ceil(raw / 3) * 4 > limit) tooLarge = true;
      if (!tooLarge && !out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    if (tooLarge) {
      count('uploadRejected');
      return json(res, 413, [
        {
          errorCode: 'REQUEST_ENTITY_TOO_LARGE',
          message: `Job data exceeds ${limit} bytes of base64-encoded content`
        }
      ]);
    }
    job.uploadedBase64Bytes += Math.ceil(raw / 3) * 4;
    job.uploads++;
    res.writeHead(201).end();
  }

  async function patchJob(req: http.IncomingMessage, res: http.ServerResponse, job: Job) {
    const body = (await readJson(req)) as { state?: unknown } | undefined;
    const state = body?.state;
    if (state === 'UploadComplete') {
      if (job.info.state !== 'Open') {
        return json(res, 409, [
          { errorCode: 'INVALIDJOBSTATE', message: `Job is ${job.info.state}, not Open` }
        ]);
      }
      setState(job, 'UploadComplete');
      job.done = run(job);
      return json(res, 200, job.info);
    }
    if (state === 'Aborted') {
      if (['JobComplete', 'Failed', 'Aborted'].includes(job.info.state)) {
        return json(res, 409, [
          { errorCode: 'INVALIDJOBSTATE', message: `Job is already ${job.info.state}` }
        ]);
      }
      job.abortRequested = true;
      if (job.info.state === 'Open') {
        setState(job, 'Aborted');
        await writeUnprocessedOnly(job);
      }
      return json(res, 200, job.info);
    }
    json(res, 400, [
      { errorCode: 'INVALIDJOBSTATE', message: 'state must be UploadComplete or Aborted' }
    ]);
  }

  async function run(job: Job): Promise<void> {
    await delay(options.queueDelayMs ?? 0);
    if (job.abortRequested) {
      setState(job, 'Aborted');
      return writeUnprocessedOnly(job);
    }
    setState(job, 'InProgress');
    const started = Date.now();
    if (
      options.decide === undefined &&
      options.failJob === undefined &&
      options.abortJob === undefined &&
      options.trackExisting === false
    ) {
      // Benchmark path: every row succeeds and nothing is remembered, so records are split (quote-aware) and copied
      // into the success file without parsing their fields: the stand-in then costs less than the loader it measures.
      await copyAsSuccesses(job, ID_PREFIX[job.info.object] ?? 'a00');
      job.info.totalProcessingTime = Date.now() - started;
      setState(job, 'JobComplete');
      return;
    }
    const failure = options.failJob?.({ id: job.info.id, sequence: job.sequence });
    const abortAfter = options.abortJob?.({ id: job.info.id, sequence: job.sequence });
    const externalId = job.info.externalIdFieldName;
    const prefix = ID_PREFIX[job.info.object] ?? 'a00';
    let header: string[] | undefined;
    let success: Stringifier | undefined;
    let failed: Stringifier | undefined;
    let unprocessed: Stringifier | undefined;
    const sinks: Promise<void>[] = [];
    const open = (kind: string, extra: string[]): Stringifier => {
      const s = stringify({ header: true, columns: [...extra, ...(header ?? [])] });
      sinks.push(pipeline(s, fs.createWriteStream(path.join(dir, `${job.info.id}.${kind}.csv`))));
      return s;
    };
    const write = async (s: Stringifier, row: string[]) => {
      if (!s.write(row)) await once(s, 'drain');
    };
    let rowNumber = 0;
    let stopped: 'Failed' | 'Aborted' | undefined;
    if (fs.existsSync(job.dataFile)) {
      const parser = fs.createReadStream(job.dataFile).pipe(
        parse({
          relax_column_count: false,
          record_delimiter: job.info.lineEnding === 'CRLF' ? '\r\n' : '\n'
        })
      );
      for await (const record of parser as AsyncIterable<string[]>) {
        if (header === undefined) {
          header = record;
          success = open('successful', ['sf__Id', 'sf__Created']);
          failed = open('failed', ['sf__Id', 'sf__Error']);
          unprocessed = open('unprocessed', []);
          continue;
        }
        rowNumber++;
        rowsPerJob[job.sequence - 1]!++;
        if (stopped === undefined && abortAfter !== undefined && rowNumber > abortAfter) {
          job.abortRequested = true;
        }
        if (stopped === undefined && job.abortRequested) stopped = 'Aborted';
        if (stopped === undefined && failure !== undefined && rowNumber > failure.afterRows)
          stopped = 'Failed';
        if (stopped !== undefined) {
          await write(unprocessed!, record);
          continue;
        }
        const row: Record<string, string> = {};
        header.forEach((column, i) => (row[column] = record[i] ?? ''));
        const error = options.decide?.(row, {
          id: job.info.id,
          object: job.info.object,
          rowNumber
        });
        job.info.numberRecordsProcessed++;
        if (error !== undefined) {
          job.info.numberRecordsFailed++;
          await write(failed!, ['', error, ...record]);
          continue;
        }
        const key = externalId === undefined ? undefined : row[externalId];
        let id =
          key === undefined || options.trackExisting === false ? undefined : existing.get(key);
        const created = id === undefined;
        if (id === undefined) {
          recordCounter++;
          id = `${prefix}${String(recordCounter).padStart(15, '0')}`;
          if (key !== undefined && options.trackExisting !== false) existing.set(key, id);
        }
        await write(success!, [id, created ? 'true' : 'false', ...record]);
      }
    }
    for (const s of [success, failed, unprocessed]) s?.end();
    await Promise.all(sinks);
    job.info.totalProcessingTime = Date.now() - started;
    job.info.apiActiveProcessingTime = job.info.totalProcessingTime;
    if (stopped === 'Failed') {
      job.info.errorMessage = failure?.message ?? 'InvalidBatch';
      setState(job, 'Failed');
    } else {
      setState(job, stopped ?? 'JobComplete');
    }
  }

  /**
   * The benchmark path's processing: every record of the upload becomes a success line (`sf__Id,sf__Created,` + the
   * record as sent). Records are found quote-aware with `Buffer.indexOf` and written one output buffer per read
   * chunk, so the stand-in's own cost stays well below the loader's on a shared machine.
   */
  async function copyAsSuccesses(job: Job, prefix: string): Promise<void> {
    const out = fs.createWriteStream(path.join(dir, `${job.info.id}.successful.csv`));
    let header = true;
    const lead = (): Buffer => {
      if (header) {
        header = false;
        return Buffer.from('"sf__Id","sf__Created",');
      }
      recordCounter++;
      job.info.numberRecordsProcessed++;
      rowsPerJob[job.sequence - 1]!++;
      return Buffer.from(`${prefix}${String(recordCounter).padStart(15, '0')},true,`, 'latin1');
    };
    // The start of a record that the previous chunk cut off.
    let carry: Buffer[] = [];
    let quoted = false;
    if (fs.existsSync(job.dataFile)) {
      for await (const chunk of fs.createReadStream(job.dataFile, {
        highWaterMark: 1 << 20
      }) as AsyncIterable<Buffer>) {
        const pieces: Buffer[] = [];
        let start = 0;
        let i = 0;
        while (i < chunk.length) {
          const quote = chunk.indexOf(0x22, i);
          if (quoted) {
            if (quote < 0) break;
            quoted = false;
            i = quote + 1;
            continue;
          }
          const lf = chunk.indexOf(0x0a, i);
          if (lf >= 0 && (quote < 0 || lf < quote)) {
            pieces.push(lead(), ...carry, chunk.subarray(start, lf + 1));
            carry = [];
            start = i = lf + 1;
          } else if (quote >= 0) {
            quoted = true;
            i = quote + 1;
          } else break;
        }
        if (start < chunk.length) carry.push(chunk.subarray(start));
        if (pieces.length > 0 && !out.write(Buffer.concat(pieces))) await once(out, 'drain');
      }
      if (carry.some((piece) => piece.length > 0)) {
        out.write(Buffer.concat([lead(), ...carry, Buffer.from('\n')]));
      }
    }
    out.end();
    await once(out, 'close');
  }

  /** An aborted job that never ran: every uploaded row is unprocessed. */
  async function writeUnprocessedOnly(job: Job): Promise<void> {
    const target = path.join(dir, `${job.info.id}.unprocessed.csv`);
    if (fs.existsSync(job.dataFile)) await fs.promises.copyFile(job.dataFile, target);
  }

  function setState(job: Job, state: JobState) {
    job.info.state = state;
    job.info.systemModstamp = new Date().toISOString();
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };

  return {
    instanceUrl: `http://127.0.0.1:${address.port}`,
    jobs: infos,
    requests,
    revoke: (token) => tokens.delete(token),
    accept: (token) => tokens.add(token),
    rowsPerJob: () => [...rowsPerJob],
    async close() {
      server.closeAllConnections();
      server.close();
      await Promise.all([...jobs.values()].map((j) => j.done.catch(() => undefined)));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { 'content-type': 'application/json;charset=UTF-8' })
    .end(JSON.stringify(body));
}

function methodNotAllowed(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  json(res, 405, [{ errorCode: 'METHOD_NOT_ALLOWED', message: `${req.method} not allowed here` }]);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
