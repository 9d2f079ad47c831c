import { auth, startTestServer, type TestServer } from '../support';

/** The server-wide OpenAPI document (`@fastify/swagger` over the registered routes) and the per-pattern views. */
describe('OpenAPI documents', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  interface Document {
    openapi: string;
    servers: { url: string }[];
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { schemas?: Record<string, unknown> };
  }

  it('documents pattern routes with their summary, bearer security and the shared 401', async () => {
    const response = await server.request('/openapi.json', { headers: { authorization: '' } });
    expect(response.status).toBe(200);
    const document = response.json<Document>();
    expect(document.openapi).toBe('3.0.3');
    const echo = document.paths['/demo/echo']?.get;
    expect(echo).toMatchObject({
      summary: 'Echo, with fault injection',
      security: [{ erpBearer: [] }],
      responses: {
        401: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
      }
    });
    expect(document.components.schemas).toHaveProperty('Error');
    // Open routes carry no bearer requirement; hidden ones (console, the documents themselves) are left out.
    expect(document.paths['/health']?.get?.security).toBeUndefined();
    expect(Object.keys(document.paths).some((path) => path.startsWith('/console'))).toBe(false);
    expect(document.paths['/openapi.json']).toBeUndefined();
  });

  it("serves each pattern's own document behind the bearer check, from the caller's host", async () => {
    expect(
      (await server.request('/demo/openapi.json', { headers: { authorization: '' } })).status
    ).toBe(401);
    const response = await server.request('/demo/openapi.json', { headers: auth });
    expect(response.status).toBe(200);
    const document = response.json<Document>();
    expect(Object.keys(document.paths).sort()).toEqual([
      '/demo/boom',
      '/demo/conflict',
      '/demo/echo',
      '/demo/items',
      '/demo/slow'
    ]);
    expect(document.servers).toEqual([{ url: server.baseUrl }]);
  });

  it('lists in the console only the routes that have a summary', () => {
    expect(server.app.erp.endpoints.get('demo')).toEqual([
      { method: 'GET', path: '/echo', description: 'Echo, with fault injection' },
      { method: 'POST', path: '/items', description: 'Validated JSON body' }
    ]);
  });
});
