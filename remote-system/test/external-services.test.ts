import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { operationIds, unbreakableJson } from '../src/openapi';
import { REPOSITORY_ROOT, renderExternalServices } from '../src/external-services';

/**
 * Every External Service registration a pattern declares (`PatternModule.externalServices`) embeds the OpenAPI
 * document `@fastify/swagger` generates from the real routes. These tests fail while a committed registration
 * differs from what `npm run generate:external-services` renders (a route schema changed, an operation was renamed,
 * or the XML was edited by hand).
 */
interface Registration {
  description: string;
  label: string;
  namedCredentialReference: string;
  operations: { active: string; name: string }[];
  registrationProviderType: string;
  schema: string;
  schemaType: string;
  status: string;
}

function parse(xml: string): Registration {
  const parser = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'operations' });
  return (parser.parse(xml) as { ExternalServiceRegistration: Registration })
    .ExternalServiceRegistration;
}

jest.setTimeout(30_000);

describe('External Service registrations', () => {
  let rendered: Awaited<ReturnType<typeof renderExternalServices>>;
  beforeAll(async () => {
    rendered = await renderExternalServices();
  });

  it('are declared by the mounted patterns (request-reply at least)', () => {
    expect(rendered.map((r) => r.descriptor.name)).toContain('ERP_Request_Reply');
  });

  it('are committed and up to date (regenerate with npm run generate:external-services)', () => {
    for (const registration of rendered) {
      const where = path.relative(REPOSITORY_ROOT, registration.file);
      expect(existsSync(registration.file)).toBe(true);
      const committed = parse(readFileSync(registration.file, 'utf8'));
      const expected = parse(registration.xml);
      // The embedded document first, value for value, so a stale file shows what changed.
      expect({ file: where, schema: JSON.parse(committed.schema) as unknown }).toEqual({
        file: where,
        schema: registration.document
      });
      expect({ file: where, ...committed, schema: committed.schema.trim() }).toEqual({
        file: where,
        ...expected
      });
    }
  });

  it('activate exactly the operations they promise, through their Named Credential', () => {
    for (const { descriptor, document, xml } of rendered) {
      const registration = parse(xml);
      expect(operationIds(document)).toEqual([...descriptor.operationIds]);
      expect(registration.operations.map((operation) => operation.name)).toEqual([
        ...descriptor.operationIds
      ]);
      expect(registration.operations.every((operation) => operation.active === 'true')).toBe(true);
      expect(registration.namedCredentialReference).toBe(descriptor.namedCredential);
      expect(registration.schemaType).toBe('OpenApi3');
      expect(registration.status).toBe('Complete');
    }
  });

  it('use only OpenAPI 3.0 constructs External Services read (no 3.1 type arrays or const)', () => {
    for (const { document } of rendered) {
      const text = JSON.stringify(document);
      expect(text).not.toMatch(/"type":\[/);
      expect(text).not.toMatch(/"const":/);
      expect(document.openapi).toMatch(/^3\.0\./);
      expect(document.servers).toEqual([{ url: '/' }]);
      // Every reference resolves inside the embedded document.
      const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
        (m) => m[1]
      );
      for (const name of refs) expect(document.components?.schemas).toHaveProperty(name as string);
    }
  });

  it('embed the JSON as one unbreakable word without XML entities, keeping its value', () => {
    const value = { text: 'a <b> & c', nested: [{ more: 'x y' }] };
    const encoded = unbreakableJson(value);
    expect(encoded).not.toMatch(/[ <>&]/);
    expect(JSON.parse(encoded)).toEqual(value);
  });
});
