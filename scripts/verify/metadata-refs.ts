/**
 * References between components of the project that a deploy resolves and rejects when the target is
 * missing ("no ApexClass named X found", "Invalid field", "External Credential not found"). Only names the
 * project itself must define are checked: custom objects and fields (`__c`, `__x`, `__e`, `__mdt`, no
 * namespace), Apex classes, External Credentials and their principals, External Data Sources. Standard
 * objects and fields, and anything namespaced, belong to the org and are not checked.
 */
import type { SourceComponent } from '@salesforce/source-deploy-retrieve';
import type { Finding } from '../lib/findings';
import type { XmlElement } from '../lib/xml';

/** `Type:fullName` keys (lower case) of everything the project defines. */
export type Inventory = Set<string>;

const key = (type: string, fullName: string): string => `${type}:${fullName}`.toLowerCase();

/** A custom (project-defined, not namespaced) object name. */
function isCustomObject(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]*__(c|x|e|mdt)$/.test(name) && name.split('__').length === 2;
}

function isCustomField(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]*__c$/.test(name) && name.split('__').length === 2;
}

export function buildInventory(
  components: Iterable<SourceComponent>,
  trees: Map<string, XmlElement>
): Inventory {
  const inventory: Inventory = new Set();
  for (const component of components) {
    inventory.add(key(component.type.name, component.fullName));
    if (component.type.name === 'CustomField') {
      // a field's object exists at least as far as the deploy is concerned (standard objects are the org's)
      inventory.add(key('CustomObject', component.fullName.split('.')[0]!));
    }
    const tree = component.xml ? trees.get(component.xml) : undefined;
    if (component.type.name === 'ExternalCredential' && tree) {
      for (const parameter of children(tree, 'externalCredentialParameters')) {
        if (text(parameter, 'parameterType') === 'NamedPrincipal') {
          inventory.add(
            key(
              'ExternalCredentialPrincipal',
              `${component.fullName}-${text(parameter, 'parameterName')}`
            )
          );
        }
      }
    }
  }
  return inventory;
}

function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

function text(element: XmlElement, name: string): string {
  return child(element, name)?.text.trim() ?? '';
}

interface Reference {
  element: XmlElement;
  type: string;
  fullName: string;
}

/** The references a component's XML makes that the project must satisfy. */
function referencesOf(typeName: string, fullName: string, tree: XmlElement): Reference[] {
  const refs: Reference[] = [];
  const add = (element: XmlElement | undefined, type: string, name: string): void => {
    if (element && name) refs.push({ element, type, fullName: name });
  };
  const objectRef = (element: XmlElement | undefined): void => {
    const name = element?.text.trim() ?? '';
    if (isCustomObject(name)) add(element, 'CustomObject', name);
  };
  const fieldRef = (element: XmlElement | undefined): void => {
    const [object, field] = (element?.text.trim() ?? '').split('.');
    if (!object || !field) return;
    objectRef({ ...element!, text: object });
    if (isCustomField(field) && (isCustomObject(object) || !object.includes('__'))) {
      add(element, 'CustomField', `${object}.${field}`);
    }
  };
  switch (typeName) {
    case 'PermissionSet':
      for (const access of children(tree, 'classAccesses')) {
        const apexClass = child(access, 'apexClass');
        const name = apexClass?.text.trim() ?? '';
        if (name && !name.includes('.')) add(apexClass, 'ApexClass', name);
      }
      for (const permission of children(tree, 'fieldPermissions'))
        fieldRef(child(permission, 'field'));
      for (const permission of children(tree, 'objectPermissions'))
        objectRef(child(permission, 'object'));
      for (const access of children(tree, 'externalCredentialPrincipalAccesses')) {
        const principal = child(access, 'externalCredentialPrincipal');
        add(principal, 'ExternalCredentialPrincipal', principal?.text.trim() ?? '');
      }
      break;
    case 'NamedCredential':
      for (const parameter of children(tree, 'namedCredentialParameters')) {
        const credential = child(parameter, 'externalCredential');
        add(credential, 'ExternalCredential', credential?.text.trim() ?? '');
      }
      break;
    case 'CustomObject':
      if (fullName.endsWith('__x')) {
        const source = child(tree, 'externalDataSource');
        add(source, 'ExternalDataSource', source?.text.trim() ?? '');
      }
      break;
    case 'CustomField': {
      const type = text(tree, 'type');
      if (
        type === 'IndirectLookup' ||
        type === 'Lookup' ||
        type === 'MasterDetail' ||
        type === 'ExternalLookup'
      ) {
        const referenceTo = child(tree, 'referenceTo');
        objectRef(referenceTo);
        const target = child(tree, 'referenceTargetField');
        if (referenceTo && target) {
          // an org returns the target object-qualified on retrieve (`Account.Key__c`); a bare name is the same field
          const name = target.text.trim();
          fieldRef({
            ...target,
            text: name.includes('.') ? name : `${referenceTo.text.trim()}.${name}`
          });
        }
      }
      break;
    }
  }
  return refs;
}

const LABELS: Record<string, string> = {
  ApexClass: 'Apex class',
  CustomObject: 'custom object',
  CustomField: 'custom field',
  ExternalCredential: 'External Credential',
  ExternalCredentialPrincipal:
    'External Credential principal (`<ExternalCredential>-<NamedPrincipal parameter>`)',
  ExternalDataSource: 'External Data Source'
};

export function referenceFindings(
  file: string,
  component: SourceComponent,
  tree: XmlElement,
  inventory: Inventory
): Finding[] {
  return referencesOf(component.type.name, component.fullName, tree)
    .filter((ref) => !inventory.has(key(ref.type, ref.fullName)))
    .map((ref) => ({
      file,
      line: ref.element.line,
      column: ref.element.column,
      rule: 'refs/missing',
      message: `<${ref.element.name}> names the ${LABELS[ref.type] ?? ref.type} ${ref.fullName}, which this project does not define: the deploy fails`
    }));
}
