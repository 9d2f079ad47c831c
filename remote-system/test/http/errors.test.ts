import { randomUUID } from 'node:crypto';
import { toErrorBody, validationFields, type ErrorBody } from '../../src/http';
import { auth, getJson, startServer, type RunningServer } from '../support';

describe('bad input always gets a 4xx in the one error shape', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ config: { BODY_LIMIT_BYTES: '2048' }, captureLogs: true });
  });
  afterAll(() => server.close());

  const post = (
    body: string,
    contentType = 'application/json',
    headers: Record<string, string> = {}
  ) =>
    getJson(`${server.baseUrl}/demo/items`, {
      method: 'POST',
      headers: { ...auth, 'content-type': contentType, ...headers },
      body
    });

  function expectError(
    res: { status: number; headers: Headers; body: unknown },
    status: number,
    code: string
  ) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = res.body as ErrorBody;
    expect(body.error.status).toBe(status);
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(body.correlationId).toBe(res.headers.get('x-correlation-id'));
    return body;
  }

  it('accepts a valid body', async () => {
    const res = await post(JSON.stringify({ name: 'Pump', quantity: 2 }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ received: { name: 'Pump', quantity: 2 } });
  });

  it('malformed JSON → 400 MALFORMED_JSON', async () => {
    expectError(await post('{"name": "Pump",'), 400, 'MALFORMED_JSON');
  });

  it('empty JSON body → 400', async () => {
    expectError(await post(''), 400, 'MALFORMED_JSON');
  });

  it('wrong content types → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectError(
      await post('name=Pump', 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE'
    );
    expectError(
      await post('{"name":"Pump","quantity":1}', 'text/plain'),
      415,
      'UNSUPPORTED_MEDIA_TYPE'
    );
    expectError(await post('<a/>', 'application/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('oversized body → 413 PAYLOAD_TOO_LARGE', async () => {
    expectError(
      await post(JSON.stringify({ name: 'x'.repeat(5_000), quantity: 1 })),
      413,
      'PAYLOAD_TOO_LARGE'
    );
  });

  it('schema violations → 400 VALIDATION_FAILED with every field', async () => {
    const body = expectError(
      await post(JSON.stringify({ name: '', quantity: 0, colour: 'red' })),
      400,
      'VALIDATION_FAILED'
    );
    expect(body.error.fields).toEqual(
      expect.arrayContaining([{ field: 'colour', reason: 'is not a known field' }])
    );
    const missing = expectError(
      await post(JSON.stringify({ name: 'Pump' })),
      400,
      'VALIDATION_FAILED'
    );
    expect(missing.error.fields).toEqual([{ field: 'quantity', reason: 'is required' }]);
    const wrongType = expectError(await post(JSON.stringify([1, 2])), 400, 'VALIDATION_FAILED');
    expect(wrongType.error.fields?.[0]?.reason).toMatch(/object/);
  });

  it('unknown routes and methods → 404 NOT_FOUND', async () => {
    expectError(await getJson(`${server.baseUrl}/nope?x=1`), 404, 'NOT_FOUND');
    expectError(await getJson(`${server.baseUrl}/demo/nope`, { headers: auth }), 404, 'NOT_FOUND');
    const res = await getJson(`${server.baseUrl}/demo/items`, { method: 'DELETE', headers: auth });
    const body = expectError(res, 404, 'NOT_FOUND');
    expect(body.error.message).toBe('No route DELETE /demo/items.');
  });

  it('a pattern can throw HttpError for its own 4xx', async () => {
    const body = expectError(
      await getJson(`${server.baseUrl}/demo/conflict`, { headers: auth }),
      409,
      'CONFLICT'
    );
    expect(body.error.fields).toEqual([{ field: 'externalId', reason: 'is taken' }]);
  });

  it('an unexpected failure is a 500 that leaks nothing, logged with its correlation id', async () => {
    const id = randomUUID();
    const res = await getJson(`${server.baseUrl}/demo/boom`, {
      headers: { ...auth, 'x-correlation-id': id }
    });
    const body = expectError(res, 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    const line = server.logs.find((l) => l.correlationId === id && l.msg === 'request failed');
    expect(line).toBeDefined();
    expect(JSON.stringify(line)).toContain('hunter2');
    // The server is still answering.
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
  });
});

describe('error helpers', () => {
  it('maps Ajv issues to readable field paths', () => {
    expect(
      validationFields(
        [
          { instancePath: '/lines/0/quantity', message: 'must be >= 1' },
          { instancePath: '', params: { missingProperty: 'customerNumber' } },
          { instancePath: '/lines/1', params: { additionalProperty: 'colour' } }
        ],
        'body'
      )
    ).toEqual([
      { field: 'lines[0].quantity', reason: 'must be >= 1' },
      { field: 'customerNumber', reason: 'is required' },
      { field: 'lines[1].colour', reason: 'is not a known field' }
    ]);
    expect(
      validationFields([{ instancePath: '/amount', message: 'must be number' }], 'querystring')
    ).toEqual([{ field: 'query.amount', reason: 'must be number' }]);
  });

  it('keeps 4xx statuses of unknown client errors and hides 5xx details', () => {
    expect(
      toErrorBody(Object.assign(new Error('Bad thing'), { statusCode: 422 }), 'c1').error
    ).toEqual({
      status: 422,
      code: 'BAD_REQUEST',
      message: 'Bad thing'
    });
    expect(toErrorBody(new Error('secret detail'), 'c2').error.message).not.toContain('secret');
  });
});
