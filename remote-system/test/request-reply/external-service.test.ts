import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import {
  embeddedDocument,
  NAMED_CREDENTIAL,
  operationIds,
  REGISTRATION_PATH,
  renderRegistration,
  unbreakableJson
} from '../../src/request-reply/external-service';

/**
 * The External Service registration embeds the OpenAPI document generated from the route schemas. These tests fail
 * when the committed XML drifts from the routes: regenerate with `npx tsx
 * remote-system/src/request-reply/external-service.ts` (then prettier) after changing a schema.
 */
interface Registration {
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

describe('ERP_Request_Reply External Service registration', () => {
  const committed = parse(readFileSync(REGISTRATION_PATH, 'utf8'));

  it('embeds exactly the OpenAPI document the routes generate', () => {
    expect(JSON.parse(committed.schema)).toEqual(embeddedDocument());
  });

  it('activates every operation of the document, through the ERP Named Credential', () => {
    expect(committed.operations.map((operation) => operation.name)).toEqual(
      operationIds(embeddedDocument())
    );
    expect(committed.operations.every((operation) => operation.active === 'true')).toBe(true);
    expect(committed.namedCredentialReference).toBe(NAMED_CREDENTIAL);
    expect(committed.schemaType).toBe('OpenApi3');
    expect(committed.registrationProviderType).toBe('Custom');
    expect(committed.status).toBe('Complete');
  });

  it('renders the same registration it was generated from', () => {
    expect(parse(renderRegistration())).toEqual({ ...committed, schema: committed.schema.trim() });
  });

  it('keeps the JSON value while making it one unbreakable word without XML entities', () => {
    const value = { text: 'a <b> & c', nested: [{ more: 'x y' }] };
    const encoded = unbreakableJson(value);
    expect(encoded).not.toMatch(/[ <>&]/);
    expect(JSON.parse(encoded)).toEqual(value);
  });

  it('uses only OpenAPI 3.0 constructs External Services read (no 3.1 type arrays or const)', () => {
    const text = JSON.stringify(embeddedDocument());
    expect(text).not.toMatch(/"type":\[/);
    expect(text).not.toMatch(/"const":/);
    expect((embeddedDocument() as { openapi: string }).openapi).toMatch(/^3\.0\./);
  });
});
