import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildOpenApiDocument } from './openapi';

/**
 * Renders the Salesforce External Service registration of the request-and-reply API: the OpenAPI 3.0 document of
 * `openapi.ts`, embedded in `ERP_Request_Reply.externalServiceRegistration-meta.xml` and bound to the `ERP` Named
 * Credential, so Flow Builder offers `checkCredit`, `checkStock` and `quotePrices` as actions.
 *
 * Regenerate after changing a route schema (a test fails until you do):
 * `npx tsx remote-system/src/request-reply/external-service.ts && npx prettier --write force-app/main/request-reply/externalServiceRegistrations`
 */

export const REGISTRATION_NAME = 'ERP_Request_Reply';
export const NAMED_CREDENTIAL = 'ERP';
export const REGISTRATION_PATH = path.resolve(
  __dirname,
  '../../../force-app/main/request-reply/externalServiceRegistrations',
  `${REGISTRATION_NAME}.externalServiceRegistration-meta.xml`
);

/** The document as embedded: the Named Credential supplies the base URL, so the server is relative. */
export function embeddedDocument(): Record<string, unknown> {
  return buildOpenApiDocument('/');
}

export function operationIds(document: Record<string, unknown>): string[] {
  const paths = document.paths as Record<string, Record<string, { operationId?: string }>>;
  return Object.values(paths)
    .flatMap((item) => Object.values(item).map((operation) => operation.operationId))
    .filter((id): id is string => typeof id === 'string');
}

/**
 * Compact JSON with spaces and the XML-special characters written as JSON `\uXXXX` escapes: the same JSON value,
 * but one unbreakable word with no XML entities, so the XML formatter can neither re-flow it (a line break inside a
 * JSON string would make it invalid) nor pad entities with spaces.
 */
export function unbreakableJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[ <>&]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
  );
}

export function renderRegistration(): string {
  const document = embeddedDocument();
  const operations = operationIds(document)
    .map(
      (id) => `  <operations>\n    <active>true</active>\n    <name>${id}</name>\n  </operations>`
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8" ?>
<ExternalServiceRegistration xmlns="http://soap.sforce.com/2006/04/metadata">
  <description>ERP credit, stock and pricing for Flow (Request and Reply).</description>
  <label>ERP Request Reply</label>
  <namedCredentialReference>${NAMED_CREDENTIAL}</namedCredentialReference>
${operations}
  <registrationProviderType>Custom</registrationProviderType>
  <schema>${unbreakableJson(document)}</schema>
  <schemaType>OpenApi3</schemaType>
  <status>Complete</status>
</ExternalServiceRegistration>
`;
}

if (require.main === module) {
  writeFileSync(REGISTRATION_PATH, renderRegistration());
  process.stdout.write(`wrote ${path.relative(process.cwd(), REGISTRATION_PATH)}\n`);
}
