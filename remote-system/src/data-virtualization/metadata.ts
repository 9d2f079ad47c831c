/**
 * The service document and the CSDL `$metadata` Salesforce Connect reads on "Validate and Sync": the entity key
 * becomes the external object's External ID, `MaxLength` the text field lengths, and the Edm types the field types.
 */
import { CONTAINER, NAMESPACE, type EntitySetDefinition } from './entity';

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** CSDL XML (OData 4.0) describing the entity sets. */
export function metadataDocument(sets: readonly EntitySetDefinition[]): string {
  const types = sets.map((set) => {
    const properties = set.properties.map((p) => {
      const facets = [
        `Name="${escapeXml(p.name)}"`,
        `Type="${p.type}"`,
        p.nullable ? '' : 'Nullable="false"',
        p.maxLength === undefined ? '' : `MaxLength="${p.maxLength}"`,
        p.precision === undefined ? '' : `Precision="${p.precision}"`,
        p.scale === undefined ? '' : `Scale="${p.scale}"`
      ].filter(Boolean);
      return `        <Property ${facets.join(' ')}/>`;
    });
    return [
      `      <EntityType Name="${escapeXml(set.entityType)}">`,
      `        <Key><PropertyRef Name="${escapeXml(set.key.name)}"/></Key>`,
      ...properties,
      '      </EntityType>'
    ].join('\n');
  });
  const entitySets = sets.map(
    (set) =>
      `        <EntitySet Name="${escapeXml(set.name)}" EntityType="${NAMESPACE}.${escapeXml(set.entityType)}"/>`
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
    '  <edmx:DataServices>',
    `    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="${NAMESPACE}">`,
    ...types,
    `      <EntityContainer Name="${CONTAINER}">`,
    ...entitySets,
    '      </EntityContainer>',
    '    </Schema>',
    '  </edmx:DataServices>',
    '</edmx:Edmx>',
    ''
  ].join('\n');
}

/** The JSON service document listing the entity sets. */
export function serviceDocument(
  serviceRoot: string,
  sets: readonly EntitySetDefinition[]
): Record<string, unknown> {
  return {
    '@odata.context': `${serviceRoot}$metadata`,
    value: sets.map((set) => ({ name: set.name, kind: 'EntitySet', url: set.name }))
  };
}
