/**
 * The producer mounted by the real composition root (`buildServer` with `patterns.ts`): behind the bearer
 * authentication the External Credential satisfies, under `/data-virtualization/odata/`.
 */
import { patternModules } from '../../src/patterns';
import { auth, startTestServer, testConfig, type TestServer } from '../support';
import { createShipmentDatabase, fetchText } from './support';

// Real HTTP servers and seeded databases on a shared, busy machine: generous per-test timeouts.
jest.setTimeout(60_000);

let server: TestServer;
let baseUrl: string;
const db = createShipmentDatabase(300);

beforeAll(async () => {
  server = await startTestServer({ db, patterns: patternModules(testConfig()) });
  baseUrl = server.baseUrl;
});

afterAll(() => server.close());

describe('data-virtualization on the composed server', () => {
  it('is registered by patterns.ts and requires the bearer secret', async () => {
    const anonymous = await fetchText(`${baseUrl}/data-virtualization/odata/$metadata`, {
      authorization: ''
    });
    expect(anonymous.status).toBe(401);
    const wrong = await fetchText(`${baseUrl}/data-virtualization/odata/$metadata`, {
      authorization: 'Bearer nope'
    });
    expect(wrong.status).toBe(401);
    const metadata = await fetchText(`${baseUrl}/data-virtualization/odata/$metadata`, auth);
    expect(metadata.status).toBe(200);
    expect(metadata.body).toContain('<EntitySet Name="Shipments" EntityType="ERP.Shipment"/>');
  });

  it('serves the service root with and without the trailing slash, and follows its own next links', async () => {
    for (const root of ['/data-virtualization/odata/', '/data-virtualization/odata']) {
      const response = await fetchText(`${baseUrl}${root}`, auth);
      expect(response.status).toBe(200);
      expect(response.json()).toMatchObject({ value: [{ name: 'Shipments' }] });
    }
    const first = await fetchText(
      `${baseUrl}/data-virtualization/odata/Shipments?$orderby=ShippedAt%20desc&$count=true`,
      { ...auth, prefer: 'odata.maxpagesize=120' }
    );
    const page = first.json() as { '@odata.count': number; '@odata.nextLink': string };
    expect(page['@odata.count']).toBe(300);
    const second = await fetchText(page['@odata.nextLink'], auth);
    expect(second.status).toBe(200);
    expect(second.headers['x-correlation-id']).toBeTruthy();
  });
});
