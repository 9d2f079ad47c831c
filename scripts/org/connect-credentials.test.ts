import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CredentialUpdateError,
  ERP_CREDENTIAL_TARGET,
  storeCredentialSecret,
  type OrgConnection
} from './connect-credentials';

interface SeenRequest {
  method: string;
  url: string;
  authorization?: string;
  body: unknown;
}

/**
 * A stand-in for the org's Connect REST resource `/services/data/vXX.X/named-credentials/credential`, built from
 * its documented contract: GET takes externalCredential, principalName and principalType as query parameters and
 * returns the credential with its `credentials` map; POST creates, PUT replaces, both with a JSON CredentialInput.
 */
async function startConnectStandIn(options: { failWith?: number } = {}) {
  const stored = new Map<string, Record<string, unknown>>();
  const seen: SeenRequest[] = [];
  const server = http.createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      seen.push({
        method: request.method ?? '',
        url: url.pathname + url.search,
        authorization: request.headers.authorization,
        body: raw ? JSON.parse(raw) : undefined
      });
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (url.pathname !== '/services/data/v67.0/named-credentials/credential')
        return send(404, []);
      if (options.failWith) return send(options.failWith, [{ errorCode: 'INSUFFICIENT_ACCESS' }]);
      if (request.method === 'GET') {
        const key = `${url.searchParams.get('externalCredential')}/${url.searchParams.get('principalName')}`;
        return send(200, { credentials: stored.get(key) ?? {} });
      }
      const input = JSON.parse(raw) as {
        externalCredential: string;
        principalName: string;
        credentials: Record<string, unknown>;
      };
      const key = `${input.externalCredential}/${input.principalName}`;
      if (request.method === 'POST' && stored.has(key))
        return send(400, [{ errorCode: 'DUPLICATE_VALUE' }]);
      if (request.method === 'PUT' && !stored.has(key))
        return send(404, [{ errorCode: 'NOT_FOUND' }]);
      stored.set(key, { ...input.credentials });
      return send(request.method === 'POST' ? 201 : 200, { credentials: input.credentials });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const org: OrgConnection = {
    instanceUrl: `http://127.0.0.1:${port}/`,
    accessToken: 'tok',
    apiVersion: '67.0'
  };
  return { org, seen, stored, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('storeCredentialSecret', () => {
  it('creates the credential first, then replaces it on a re-run', async () => {
    const standIn = await startConnectStandIn();
    try {
      await expect(
        storeCredentialSecret(standIn.org, ERP_CREDENTIAL_TARGET, 'first')
      ).resolves.toBe('created');
      await expect(
        storeCredentialSecret(standIn.org, ERP_CREDENTIAL_TARGET, 'second')
      ).resolves.toBe('updated');

      expect(standIn.stored.get('ERP_Credential/ERP_Principal')).toEqual({
        ApiKey: { value: 'second', encrypted: true }
      });
      expect(standIn.seen.map((request) => request.method)).toEqual(['GET', 'POST', 'GET', 'PUT']);
      expect(standIn.seen[0]?.url).toBe(
        '/services/data/v67.0/named-credentials/credential?externalCredential=ERP_Credential&principalName=ERP_Principal&principalType=NamedPrincipal'
      );
      expect(standIn.seen.every((request) => request.authorization === 'Bearer tok')).toBe(true);
      expect(standIn.seen[1]?.body).toMatchObject({
        principalType: 'NamedPrincipal',
        authenticationProtocol: 'Custom'
      });
    } finally {
      await standIn.close();
    }
  });

  it('says what failed when the org refuses', async () => {
    const standIn = await startConnectStandIn({ failWith: 403 });
    try {
      const attempt = storeCredentialSecret(standIn.org, ERP_CREDENTIAL_TARGET, 'x');
      await expect(attempt).rejects.toThrow(CredentialUpdateError);
      await expect(attempt).rejects.toThrow(/ERP_Credential\/ERP_Principal failed: 403/);
    } finally {
      await standIn.close();
    }
  });

  it('refuses an empty secret without calling the org', async () => {
    const calls: string[] = [];
    const fakeFetch = (async (url: string) => {
      calls.push(url);
      return new Response('{}');
    }) as unknown as typeof fetch;
    await expect(
      storeCredentialSecret(
        { instanceUrl: 'https://x', accessToken: 't', apiVersion: '67.0' },
        ERP_CREDENTIAL_TARGET,
        '',
        fakeFetch
      )
    ).rejects.toThrow('the secret is empty');
    expect(calls).toEqual([]);
  });
});
