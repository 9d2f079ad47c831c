/**
 * Metadata rules beyond the XML schema that a deploy enforces (part of the metadata check):
 * - a custom field carries the elements its `<type>` requires ({@link FIELD_TYPE_REQUIREMENTS});
 * - a FlexiPage places only components that exist: a project LWC bundle exposed (`isExposed`) for the page's
 *   type (and, on a record page, for its object when the bundle lists objects), or a standard component
 *   ({@link STANDARD_FLEXIPAGE_COMPONENTS});
 * - text elements stay within the length the platform stores ({@link TEXT_LENGTH_LIMITS}).
 */
import * as path from 'node:path';
import type { SourceComponent } from '@salesforce/source-deploy-retrieve';
import type { Finding } from '../lib/findings';
import type { XmlElement } from '../lib/xml';

/**
 * Elements each CustomField `<type>` requires (Metadata API Developer Guide, "CustomField": the field
 * descriptions of `length`, `precision`, `scale`, `visibleLines`, `referenceTo`, `relationshipName`,
 * `valueSet`, `displayFormat`, `defaultValue`, `maskChar`/`maskType`, `summaryOperation`; a deploy without them
 * fails with "… is required for this field type"). Formula fields compute their value: their Text and
 * Checkbox forms need neither `length` nor `defaultValue`.
 */
export const FIELD_TYPE_REQUIREMENTS: Record<string, string[]> = {
  Text: ['length'],
  LongTextArea: ['length', 'visibleLines'],
  Html: ['length', 'visibleLines'],
  EncryptedText: ['length', 'maskChar', 'maskType'],
  Number: ['precision', 'scale'],
  Currency: ['precision', 'scale'],
  Percent: ['precision', 'scale'],
  Checkbox: ['defaultValue'],
  Picklist: ['valueSet'],
  MultiselectPicklist: ['valueSet', 'visibleLines'],
  AutoNumber: ['displayFormat'],
  Lookup: ['referenceTo', 'relationshipName'],
  MasterDetail: ['referenceTo', 'relationshipName'],
  ExternalLookup: ['referenceTo', 'relationshipName'],
  IndirectLookup: ['referenceTo', 'referenceTargetField', 'relationshipName'],
  Hierarchy: ['relationshipName'],
  Summary: ['summaryOperation']
};

/** Not required when the field has a `<formula>`. */
const FORMULA_EXEMPT = new Set(['length', 'defaultValue']);

function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

function text(element: XmlElement, name: string): string {
  return child(element, name)?.text.trim() ?? '';
}

export function fieldTypeFindings(file: string, fullName: string, tree: XmlElement): Finding[] {
  const field = fullName.split('.').pop() ?? '';
  if (!/__c$/i.test(field)) return []; // standard fields in source carry no type of their own
  const typeElement = child(tree, 'type');
  const type = typeElement?.text.trim() ?? '';
  const required = FIELD_TYPE_REQUIREMENTS[type];
  if (!typeElement || !required) return [];
  const isFormula = !!child(tree, 'formula');
  const out: Finding[] = [];
  for (const name of required) {
    if (isFormula && FORMULA_EXEMPT.has(name)) continue;
    if (name === 'precision' && isFormula && !child(tree, 'precision')) continue;
    if (child(tree, name)) continue;
    out.push({
      file,
      line: typeElement.line,
      column: typeElement.column,
      rule: 'semantics/field-type',
      message: `a ${type} field needs <${name}>: the deploy rejects ${field} without it (required: ${required.join(', ')})`
    });
  }
  const length = Number(text(tree, 'length'));
  if (type === 'Text' && !isFormula && child(tree, 'length') && !(length >= 1 && length <= 255)) {
    const element = child(tree, 'length')!;
    out.push({
      file,
      line: element.line,
      column: element.column,
      rule: 'semantics/field-type',
      message: `a Text field's <length> is 1–255, not '${text(tree, 'length')}' (use LongTextArea for more)`
    });
  }
  const precision = Number(text(tree, 'precision'));
  const scale = Number(text(tree, 'scale'));
  if (child(tree, 'precision') && child(tree, 'scale') && (precision > 18 || scale > precision)) {
    const element = child(tree, 'precision')!;
    out.push({
      file,
      line: element.line,
      column: element.column,
      rule: 'semantics/field-type',
      message: `<precision> ${precision} and <scale> ${scale}: precision is at most 18 and scale at most the precision`
    });
  }
  return out;
}

/**
 * Longest text a deploy accepts for an element, per metadata type. Only limits stated in Salesforce's references
 * are listed: `PermissionSet.Description` is a 255-character field (Tooling API PermissionSet and the Object
 * Reference's PermissionSet: "Description … Limit: 255 characters"); a longer `<description>` fails the deploy of
 * the permission set.
 */
export const TEXT_LENGTH_LIMITS: Record<string, Record<string, number>> = {
  PermissionSet: { description: 255 }
};

export function textLengthFindings(file: string, type: string, tree: XmlElement): Finding[] {
  const limits = TEXT_LENGTH_LIMITS[type];
  if (!limits) return [];
  const out: Finding[] = [];
  for (const [name, max] of Object.entries(limits)) {
    const element = child(tree, name);
    const length = element ? [...element.text].length : 0;
    if (!element || length <= max) continue;
    out.push({
      file,
      line: element.line,
      column: element.column,
      rule: 'semantics/text-length',
      message: `a ${type} <${name}> holds at most ${max} characters, this one ${length}: the deploy rejects it`
    });
  }
  return out;
}

/**
 * Standard components of the `force` and `flexipage` namespaces that a FlexiPage may place (Lightning App
 * Builder standard components, as their metadata names appear in retrieved FlexiPages). Components of other
 * namespaces (`runtime_sales_*`, `forceChatter`, `console`, installed packages) are not judged.
 */
export const STANDARD_FLEXIPAGE_COMPONENTS = new Set([
  'force:highlightsPanel',
  'force:detailPanel',
  'force:relatedListContainer',
  'force:relatedListSingleContainer',
  'force:relatedListQuickLinksContainer',
  'force:recordDetailPanelMobile',
  'force:socialPanel',
  'flexipage:richText',
  'flexipage:tabset',
  'flexipage:tabset2',
  'flexipage:tab',
  'flexipage:accordion',
  'flexipage:accordionSection',
  'flexipage:column',
  'flexipage:fieldSection',
  'flexipage:field',
  'flexipage:reportChart',
  'flexipage:filterListCard',
  'flexipage:recentItems',
  'flexipage:visualforcePage',
  'flexipage:launchpad',
  'flexipage:image',
  'flexipage:richText'
]);

/** FlexiPage `<type>` → the LWC target a component needs to be placed on it. */
const PAGE_TARGETS: Record<string, string> = {
  RecordPage: 'lightning__RecordPage',
  AppPage: 'lightning__AppPage',
  HomePage: 'lightning__HomePage',
  UtilityBar: 'lightning__UtilityBar',
  MailAppAppPage: 'lightning__Inbox'
};

export interface ExposedBundle {
  name: string;
  exposed: boolean;
  targets: Set<string>;
  /** Target → objects its targetConfig restricts it to (absent: any object). */
  objects: Map<string, Set<string>>;
  file: string;
}

/** What each LWC bundle of the project is exposed for, from its `.js-meta.xml`. */
export function exposedBundles(
  components: Iterable<SourceComponent>,
  trees: Map<string, XmlElement>
): Map<string, ExposedBundle> {
  const out = new Map<string, ExposedBundle>();
  for (const component of components) {
    if (component.type.name !== 'LightningComponentBundle' || !component.xml) continue;
    const tree = trees.get(component.xml);
    const bundle: ExposedBundle = {
      name: component.fullName,
      exposed: tree ? text(tree, 'isExposed') === 'true' : false,
      targets: new Set(),
      objects: new Map(),
      file: component.xml
    };
    for (const targets of tree?.children.filter((c) => c.name === 'targets') ?? [])
      for (const target of targets.children) bundle.targets.add(target.text.trim());
    for (const configs of tree?.children.filter((c) => c.name === 'targetConfigs') ?? []) {
      for (const config of configs.children) {
        const objects = child(config, 'objects');
        if (!objects) continue;
        const names = new Set(objects.children.map((o) => o.text.trim().toLowerCase()));
        for (const target of (config.attributes?.targets ?? '').split(','))
          bundle.objects.set(target.trim(), names);
      }
    }
    out.set(component.fullName, bundle);
  }
  return out;
}

export function flexiPageFindings(
  file: string,
  tree: XmlElement,
  bundles: Map<string, ExposedBundle>,
  auraBundles: Set<string>,
  root: string
): Finding[] {
  const out: Finding[] = [];
  const pageType = text(tree, 'type');
  const target = PAGE_TARGETS[pageType];
  const sobject = text(tree, 'sobjectType').toLowerCase();
  const visit = (element: XmlElement): void => {
    if (element.name === 'componentName') check(element);
    element.children.forEach(visit);
  };
  const finding = (element: XmlElement, message: string): void => {
    out.push({
      file,
      line: element.line,
      column: element.column,
      rule: 'semantics/flexipage-component',
      message
    });
  };
  const check = (element: XmlElement): void => {
    const name = element.text.trim();
    const [namespace, local] = name.includes(':') ? name.split(':') : ['c', name];
    if (!namespace || !local) return;
    if (namespace === 'force' || namespace === 'flexipage') {
      if (!STANDARD_FLEXIPAGE_COMPONENTS.has(name))
        finding(
          element,
          `${name} is not a standard Lightning page component the gate knows (force:highlightsPanel, force:detailPanel, flexipage:richText, …): check the name`
        );
      return;
    }
    if (namespace !== 'c') return; // another namespace: an installed package or a product's components
    const bundle = bundles.get(local);
    if (!bundle) {
      if (!auraBundles.has(local))
        finding(
          element,
          `${name}: the project has no LWC (or Aura) bundle ${local}, so the page does not deploy`
        );
      return;
    }
    const at = path.relative(root, bundle.file);
    if (!bundle.exposed) {
      finding(
        element,
        `${local} is not exposed (<isExposed>true</isExposed> in ${at}): a page cannot place it`
      );
      return;
    }
    if (target && !bundle.targets.has(target)) {
      finding(
        element,
        `${local} is not exposed for a ${pageType} (add <target>${target}</target> to ${at})`
      );
      return;
    }
    const objects = target ? bundle.objects.get(target) : undefined;
    if (objects && sobject && !objects.has(sobject))
      finding(
        element,
        `${local} is exposed on record pages of ${[...objects].join(', ')} only, not ${text(tree, 'sobjectType')} (${at})`
      );
  };
  visit(tree);
  return out;
}
