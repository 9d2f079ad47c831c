import { createRemoteCallInModule } from '../../src/remote-call-in';
import { loadRemoteCallInConfig } from '../../src/remote-call-in/config';
import { startTestServer, type TestServer } from '../support';
import { startOrg, type OrgHarness } from './support';

describe('POST /remote-call-in/runs (the console button)', () => {
  let org: OrgHarness;
  let server: TestServer | undefined;
  beforeEach(async () => {
    org = await startOrg([]);
  });
  afterEach(async () => {
    await server?.close();
    await org.close();
  });

  it('runs a call-in against the configured org and answers with the summary', async () => {
    server = await startTestServer({
      patterns: [
        createRemoteCallInModule({
          salesforce: { mode: 'none' },
          auth: org.auth,
          config: loadRemoteCallInConfig({ CALL_IN_BASE_DELAY_MS: '5' })
        })
      ]
    });
    const response = await server.request('/remote-call-in/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orders: 7 })
    });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ ok: true, sent: 7, created: 7, rejected: 0 });
    expect(response.json<{ summary: string }>().summary).toContain('sent 7 orders: 7 created');
    expect(org.orders.orders.size).toBe(7);
  });

  it('says when no Salesforce connection is configured, and validates the body', async () => {
    server = await startTestServer({
      patterns: [
        createRemoteCallInModule({
          salesforce: { mode: 'none' },
          config: loadRemoteCallInConfig({})
        })
      ]
    });
    const post = (body: unknown) =>
      server!.request('/remote-call-in/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body)
      });
    const unconfigured = await post({ orders: 1 });
    expect(unconfigured.status).toBe(503);
    expect(unconfigured.json()).toMatchObject({ error: { code: 'SALESFORCE_NOT_CONFIGURED' } });
    expect((await post({ orders: 0 })).status).toBe(400);
  });
});
