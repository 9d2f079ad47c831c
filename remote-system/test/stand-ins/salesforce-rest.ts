import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';

/**
 * A local stand-in for the parts of an org the ERP calls over HTTP, on 127.0.0.1 (port 0 by default):
 *
 * - the OAuth 2.0 token endpoint `POST /services/oauth2/token` (JWT bearer grant verified against a public key,
 *   client-credentials grant against an id/secret pair), answering like Salesforce: `access_token`,
 *   `instance_url`, `id` (`…/id/<orgId>/<userId>`), `token_type`; errors as `{ error, error_description }`;
 * - bearer checks on every other route: an unknown or revoked token gets Salesforce's 401 body
 *   `[{ "message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID" }]`;
 * - whatever API routes a test (or a pattern's own stand-in module) adds with {@link SalesforceStandIn.route};
 * - scripted faults ({@link SalesforceStandIn.failNext}): a status with an optional `Retry-After`, or a hang, for
 *   the next N API requests.
 *
 * - the sObject update `PATCH /services/data/vXX.X/sobjects/<type>/<id>` over the same record store (the UI
 *   Integration canvas page writes a price with the user's token from the signed request);
 * - the sObject Collections upsert `PATCH /services/data/vXX.X/composite/sobjects/<type>/<externalIdField>`
 *   (up to 200 records, `allOrNone`, UpsertResult `{ id, success, errors, created }` per record, in order) over an
 *   in-memory record store ({@link SalesforceStandIn.records}); `Name` is required to create a record;
 * - the sObject Rows retrieve `GET /services/data/vXX.X/sobjects/<type>/<id>?fields=…` over the same store.
 *
 * Patterns extend it with their own routes (the Remote Call-In order API lives in
 * `remote-system/test/remote-call-in/org-stand-in.ts`) rather than copying it.
 */

/** The org id every token of the stand-in carries (15 characters, as in real session ids). */
export const STAND_IN_ORG_ID = '00D000000000001';
export const STAND_IN_USER_ID = '005000000000001AAA';

export interface StandInOptions {
  /** JWT bearer grant: the consumer key (`iss`), the user (`sub`) and the public key matching the ERP's private key. */
  readonly jwt?: {
    readonly clientId: string;
    readonly username: string;
    readonly publicKey: KeyObject;
  };
  /** Client-credentials grant: the consumer key and secret. */
  readonly clientCredentials?: { readonly clientId: string; readonly clientSecret: string };
  /** Tokens accepted from the start (the `token` and `sf-cli` modes hand one over directly). */
  readonly staticTokens?: readonly string[];
  /** Milliseconds before the token endpoint answers (to test concurrent refreshes). */
  readonly tokenDelayMs?: number;
}

/** A scripted failure for the next API request(s). */
export type StandInFault =
  | { readonly status: number; readonly retryAfter?: string; readonly body?: unknown }
  | { readonly hang: true }
  /** The request is handled (and its writes kept), then the connection is cut before the answer: a lost reply. */
  | { readonly dropAnswer: true };

export interface StandInRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** The raw body bytes (an empty buffer when none). */
  readonly body: Buffer;
}

export interface StandInResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Serialised as JSON unless it is a string. */
  readonly body?: unknown;
}

export type StandInHandler = (
  request: StandInRequest
) => StandInResponse | Promise<StandInResponse>;

/** A record of one API request, for assertions on what the client sent. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The status the stand-in answered with (undefined when it hung). */
  status?: number;
}

export interface SalesforceStandIn {
  /** `http://127.0.0.1:<port>`: both the login URL and the `instance_url` the token endpoint reports. */
  readonly url: string;
  /** Adds an API route. `pattern` is a path whose `:name` segments match one segment each. */
  route(method: string, pattern: string, handler: StandInHandler): void;
  /** The next `count` API requests (not token requests) fail with `fault`. */
  failNext(fault: StandInFault, count?: number): void;
  /** Makes every token issued so far invalid (the next API call gets a 401). */
  revokeTokens(): void;
  /** Grants seen by the token endpoint, successful or not, in order. */
  readonly tokenRequests: { readonly grantType: string; readonly ok: boolean }[];
  /** API requests seen (token requests excluded), in order. */
  readonly requests: RecordedRequest[];
  /** Records written through the sObject Collections upsert: type → external id value → fields (with `Id`). */
  readonly records: Map<string, Map<string, Record<string, unknown>>>;
  /** Makes the upsert refuse records of `type` whose `field` equals `value` (a validation rule of the org). */
  rejectRecords(type: string, field: string, value: unknown, message: string): void;
  close(): Promise<void>;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Starts the stand-in on 127.0.0.1; `close()` stops it and releases hung requests. */
export async function startSalesforceStandIn(
  options: StandInOptions = {},
  port = 0
): Promise<SalesforceStandIn> {
  const valid = new Set(options.staticTokens ?? []);
  const routes: { method: string; parts: string[]; handler: StandInHandler }[] = [];
  const faults: StandInFault[] = [];
  const hung = new Set<http.ServerResponse>();
  const tokenRequests: { grantType: string; ok: boolean }[] = [];
  const requests: RecordedRequest[] = [];
  let url = '';

  const send = (res: http.ServerResponse, response: StandInResponse): void => {
    const text =
      response.body === undefined
        ? ''
        : typeof response.body === 'string'
          ? response.body
          : JSON.stringify(response.body);
    res.writeHead(response.status, {
      ...(response.body === undefined || typeof response.body === 'string'
        ? {}
        : { 'content-type': 'application/json;charset=UTF-8' }),
      ...response.headers
    });
    res.end(text);
  };

  const issueToken = (): StandInResponse => {
    const accessToken = `${STAND_IN_ORG_ID}!${randomBytes(24).toString('base64url')}`;
    valid.add(accessToken);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        instance_url: url,
        id: `${url}/id/${STAND_IN_ORG_ID}AAA/${STAND_IN_USER_ID}`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
        scope: 'api',
        signature: createHash('sha256').update(accessToken).digest('base64')
      }
    };
  };

  const oauthError = (status: number, error: string, description: string): StandInResponse => ({
    status,
    body: { error, error_description: description }
  });

  const token = async (body: Buffer): Promise<StandInResponse> => {
    const form = new URLSearchParams(body.toString('utf8'));
    const grantType = form.get('grant_type') ?? '';
    if (options.tokenDelayMs !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, options.tokenDelayMs));
    }
    let answer: StandInResponse;
    if (grantType === JWT_BEARER && options.jwt !== undefined) {
      answer = await jwtGrant(form.get('assertion') ?? '', options.jwt);
    } else if (grantType === 'client_credentials' && options.clientCredentials !== undefined) {
      const { clientId, clientSecret } = options.clientCredentials;
      answer =
        form.get('client_id') === clientId && form.get('client_secret') === clientSecret
          ? issueToken()
          : oauthError(400, 'invalid_client', 'invalid client credentials');
    } else {
      answer = oauthError(400, 'unsupported_grant_type', 'grant type not supported');
    }
    tokenRequests.push({ grantType, ok: answer.status === 200 });
    return answer;
  };

  const jwtGrant = async (
    assertion: string,
    expected: NonNullable<StandInOptions['jwt']>
  ): Promise<StandInResponse> => {
    try {
      const { payload } = await jwtVerify(assertion, expected.publicKey, {
        algorithms: ['RS256'],
        issuer: expected.clientId,
        subject: expected.username,
        audience: url,
        requiredClaims: ['exp']
      });
      // Salesforce refuses an assertion whose exp is more than 3 minutes ahead (plus a little clock skew).
      if ((payload.exp ?? 0) > Date.now() / 1000 + 180 + 5) {
        return oauthError(400, 'invalid_grant', 'expiration time too far in the future');
      }
      return issueToken();
    } catch (error) {
      return oauthError(400, 'invalid_grant', `invalid assertion: ${(error as Error).message}`);
    }
  };

  const match = (method: string, path: string) => {
    const parts = path.split('/').filter((p) => p !== '');
    for (const route of routes) {
      if (route.method !== method || route.parts.length !== parts.length) continue;
      const ok = route.parts.every((p, i) => p.startsWith(':') || p === parts[i]);
      if (ok) return route;
    }
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const target = new URL(req.url ?? '/', url);
        const method = req.method ?? 'GET';
        if (target.pathname === '/services/oauth2/token' && method === 'POST') {
          send(res, await token(body));
          return;
        }
        const recorded: RecordedRequest = {
          method,
          path: target.pathname,
          headers: req.headers,
          body: body.toString('utf8')
        };
        requests.push(recorded);
        const answer = (response: StandInResponse): void => {
          recorded.status = response.status;
          send(res, response);
        };
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer ') || !valid.has(auth.slice('Bearer '.length))) {
          answer({
            status: 401,
            body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]
          });
          return;
        }
        const fault = faults.shift();
        if (fault !== undefined && !('dropAnswer' in fault)) {
          if ('hang' in fault) {
            hung.add(res);
            res.on('close', () => hung.delete(res));
            return;
          }
          answer({
            status: fault.status,
            ...(fault.retryAfter === undefined
              ? {}
              : { headers: { 'retry-after': fault.retryAfter } }),
            body: fault.body ?? [{ message: 'stand-in fault', errorCode: 'STAND_IN_FAULT' }]
          });
          return;
        }
        const route = match(method, target.pathname);
        if (route === undefined) {
          answer({
            status: 404,
            body: [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]
          });
          return;
        }
        if (fault !== undefined) {
          // dropAnswer: run the handler for its effects, then cut the connection instead of answering.
          await route.handler({
            method,
            path: target.pathname,
            query: target.searchParams,
            headers: req.headers,
            body
          });
          res.destroy();
          return;
        }
        try {
          answer(
            await route.handler({
              method,
              path: target.pathname,
              query: target.searchParams,
              headers: req.headers,
              body
            })
          );
        } catch (error) {
          answer({
            status: 500,
            body: [{ message: (error as Error).message, errorCode: 'APEX_ERROR' }]
          });
        }
      })();
    });
  });

  const records = new Map<string, Map<string, Record<string, unknown>>>();
  const rejections: { type: string; field: string; value: unknown; message: string }[] = [];
  let nextId = 1;
  routes.push({
    method: 'PATCH',
    parts: ['services', 'data', ':version', 'composite', 'sobjects', ':type', ':field'],
    handler: (request) => {
      const [, , , , , type = '', field = ''] = request.path.split('/').filter((p) => p !== '');
      let body: { allOrNone?: unknown; records?: unknown };
      try {
        body = JSON.parse(request.body.toString('utf8')) as typeof body;
      } catch {
        return { status: 400, body: [{ message: 'Invalid JSON', errorCode: 'JSON_PARSER_ERROR' }] };
      }
      if (!Array.isArray(body.records)) {
        return {
          status: 400,
          body: [{ message: 'records is required', errorCode: 'INVALID_FIELD' }]
        };
      }
      if (body.records.length > 200) {
        return {
          status: 400,
          body: [
            {
              message: 'record limit reached. cannot submit more than 200 records into this call',
              errorCode: 'EXCEEDED_ID_LIMIT'
            }
          ]
        };
      }
      const store = records.get(type) ?? new Map<string, Record<string, unknown>>();
      const staged = new Map(store);
      const results = (body.records as Record<string, unknown>[]).map((record) => {
        const fail = (statusCode: string, message: string, fields: string[] = []) => ({
          success: false,
          errors: [{ statusCode, message, fields }]
        });
        const attributes = record.attributes as { type?: unknown } | undefined;
        if (attributes?.type !== type) {
          return fail('INVALID_TYPE', `each record needs attributes.type ${type}`);
        }
        const key = record[field];
        if (typeof key !== 'string' || key === '') {
          return fail('MISSING_ARGUMENT', `${field} not specified`, [field]);
        }
        const rule = rejections.find((r) => r.type === type && record[r.field] === r.value);
        if (rule !== undefined) {
          return fail('FIELD_CUSTOM_VALIDATION_EXCEPTION', rule.message);
        }
        const fields = Object.fromEntries(
          Object.entries(record).filter(([k]) => k !== 'attributes')
        );
        const current = staged.get(key.toUpperCase());
        if (current === undefined && typeof fields.Name !== 'string') {
          return fail('REQUIRED_FIELD_MISSING', 'Required fields are missing: [Name]', ['Name']);
        }
        const id =
          (current?.Id as string | undefined) ?? `001${String(nextId++).padStart(15, '0')}`;
        staged.set(key.toUpperCase(), { ...current, ...fields, Id: id });
        return { id, success: true, errors: [], created: current === undefined };
      });
      const failed = results.some((r) => !r.success);
      if (body.allOrNone === true && failed) {
        return {
          status: 200,
          body: results.map((r) =>
            r.success
              ? {
                  success: false,
                  errors: [
                    {
                      statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                      message:
                        'Record rolled back because not all records were valid and the request was using AllOrNone header',
                      fields: []
                    }
                  ]
                }
              : r
          )
        };
      }
      // Written in place: routes added by patterns hold the same map (the order API reads Accounts from it).
      for (const [key, record] of staged) store.set(key, record);
      records.set(type, store);
      return { status: 200, body: results };
    }
  });

  // sObject update by Id (`PATCH /services/data/vXX.X/sobjects/<type>/<id>`): merges the fields into the stored
  // record whose Id matches (15 or 18 characters), 204 without a body; 404 NOT_FOUND for an unknown record, 400 for
  // a body that is not a JSON object or a record a rejectRecords rule refuses. The bearer check above applies.
  routes.push({
    method: 'PATCH',
    parts: ['services', 'data', ':version', 'sobjects', ':type', ':id'],
    handler: (request) => {
      const [, , , , type = '', id = ''] = request.path.split('/').filter((p) => p !== '');
      let fields: unknown;
      try {
        fields = JSON.parse(request.body.toString('utf8'));
      } catch {
        return { status: 400, body: [{ message: 'Invalid JSON', errorCode: 'JSON_PARSER_ERROR' }] };
      }
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
        return {
          status: 400,
          body: [{ message: 'The body must be a JSON object', errorCode: 'JSON_PARSER_ERROR' }]
        };
      }
      const record = [...(records.get(type)?.values() ?? [])].find(
        (r) => typeof r.Id === 'string' && r.Id.slice(0, 15) === id.slice(0, 15)
      );
      if (record === undefined) {
        return {
          status: 404,
          body: [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]
        };
      }
      const update = fields as Record<string, unknown>;
      const rule = rejections.find((r) => r.type === type && update[r.field] === r.value);
      if (rule !== undefined) {
        return {
          status: 400,
          body: [
            { message: rule.message, errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: [] }
          ]
        };
      }
      Object.assign(record, update, { Id: record.Id });
      return { status: 204 };
    }
  });

  // sObject Rows retrieve, GET /services/data/vXX.X/sobjects/<type>/<id>[?fields=A,B]: the record with that Id from
  // the same store, only the listed fields when `fields` is given (plus attributes and Id); 404 NOT_FOUND otherwise.
  routes.push({
    method: 'GET',
    parts: ['services', 'data', ':version', 'sobjects', ':type', ':id'],
    handler: (request) => {
      const [, , version = '', , type = '', id = ''] = request.path
        .split('/')
        .filter((p) => p !== '');
      const record = [...(records.get(type)?.values() ?? [])].find((r) => r.Id === id);
      if (record === undefined) {
        return {
          status: 404,
          body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]
        };
      }
      const wanted = request.query.get('fields');
      const fields =
        wanted === null
          ? record
          : Object.fromEntries(
              wanted
                .split(',')
                .map((f) => f.trim())
                .filter((f) => f !== '')
                .map((f) => [f, record[f] ?? null])
            );
      return {
        status: 200,
        body: {
          attributes: { type, url: `/services/data/${version}/sobjects/${type}/${id}` },
          ...fields,
          Id: id
        }
      };
    }
  });

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    route(method, pattern, handler) {
      routes.push({ method, parts: pattern.split('/').filter((p) => p !== ''), handler });
    },
    failNext(fault, count = 1) {
      for (let i = 0; i < count; i += 1) faults.push(fault);
    },
    revokeTokens() {
      valid.clear();
    },
    tokenRequests,
    requests,
    records,
    rejectRecords(type, field, value, message) {
      rejections.push({ type, field, value, message });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}
