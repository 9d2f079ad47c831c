/**
 * lwc-refs: what a Lightning Web Component refers to, resolved the way the org resolves it at deploy time
 * (`@lwc/compiler` accepts all of these; only the org rejects them):
 * - `@salesforce/apex/Class.method` → a `static`, `public`/`global`, `@AuraEnabled` method of a project class;
 *   `@salesforce/apexContinuation/…` → `@AuraEnabled(continuation=true)`; an import used as a `@wire` adapter →
 *   `cacheable=true`;
 * - `@salesforce/schema/Object[.Field[.Field…]]` → an object and field of the project or of the standard schema
 *   apexlink knows (lib/schema.ts);
 * - `@salesforce/label/c.X`, `@salesforce/resourceUrl/X`, `@salesforce/messageChannel/X__c`,
 *   `@salesforce/customPermission/X` → a component of the project;
 * - `c/x` imports and `<c-x>` tags → a bundle of the project; `lightning/x` imports and `<lightning-x>` tags →
 *   the base-component catalogue (the @salesforce/sfdx-lwc-jest stubs, lib/lwc.ts); relative imports → a file
 *   of the bundle; any other bare module → nothing (the platform has no npm);
 * - `<target>` of a `.js-meta.xml` → the documented targets ({@link TARGETS}); each `<targetConfig targets>` →
 *   one of the bundle's targets, with only the child elements that target allows.
 * Namespaced references (`ns/x`, `<ns-x>`, `ns.Class.method`, `ns__Object__c`) belong to installed packages and
 * are not checked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readApexFile, type ApexFile } from '../lib/apex-model';
import { runCli, timed, type CheckResult, type Finding } from '../lib/findings';
import {
  jsReferences,
  lightningCatalogue,
  lwcBundles,
  tagToModuleName,
  templateReferences,
  type LwcReference
} from '../lib/lwc';
import { packageFiles, readText } from '../lib/project';
import { Schema } from '../lib/schema';
import { readXml, type XmlElement } from '../lib/xml';

/**
 * The documented `<target>` values (LWC Developer Guide, "XML Configuration File Elements" → targets, and the
 * "… Target" page of each), with the `<targetConfig>` child elements each accepts. `undefined` = not
 * restricted here (the guide does not list them precisely enough to reject anything).
 */
export const TARGETS: Record<string, string[] | undefined> = {
  lightning__AppPage: ['property', 'supportedFormFactors'],
  lightning__HomePage: ['property', 'supportedFormFactors'],
  lightning__RecordPage: ['property', 'objects', 'supportedFormFactors'],
  // "The lightning__Tab target doesn't support the property and supportedFormFactor tags."
  lightning__Tab: [],
  lightning__UtilityBar: ['property', 'supportedFormFactors'],
  lightning__FlowScreen: ['property', 'propertyType', 'configurationEditor'],
  lightning__Inbox: ['property'],
  lightning__RecordAction: ['actionType', 'objects'],
  lightning__GlobalAction: ['actionType'],
  lightning__UrlAddressable: undefined,
  lightning__FlowAction: undefined,
  lightning__Dashboard: undefined,
  lightning__EnablementProgram: undefined,
  lightning__AgentforceInput: undefined,
  lightning__AgentforceOutput: undefined,
  lightning__VoiceExtension: undefined,
  lightningCommunity__Page: undefined,
  lightningCommunity__Default: undefined,
  lightningCommunity__Page_Layout: undefined,
  lightningCommunity__Theme_Layout: undefined,
  lightningSnapin__ChatHeaderButton: undefined,
  lightningSnapin__ChatMessage: undefined,
  lightningSnapin__Minimized: undefined,
  lightningSnapin__PreChat: undefined,
  lightningStatic__Email: undefined,
  analytics__Dashboard: undefined
};

interface Project {
  root: string;
  files: string[];
  schema: Schema;
  /** A project class by name (case-insensitive), parsed on first use. */
  apex: (name: string) => ApexFile | undefined;
  classCount: number;
  bundles: Set<string>;
  labels: Set<string>;
  resources: Set<string>;
  messageChannels: Set<string>;
  customPermissions: Set<string>;
}

function namesBySuffix(files: string[], suffix: string): Set<string> {
  return new Set(
    files.filter((f) => f.endsWith(suffix)).map((f) => path.basename(f, suffix).toLowerCase())
  );
}

function customLabels(files: string[]): Set<string> {
  const out = new Set<string>();
  for (const file of files.filter(
    (f) => f.endsWith('.labels-meta.xml') || f.endsWith('.label-meta.xml')
  )) {
    const text = readText(file);
    if (text instanceof Error) continue;
    for (const m of text.matchAll(/<fullName>\s*([^<\s]+)\s*<\/fullName>/g))
      out.add(m[1]!.toLowerCase());
    if (file.endsWith('.label-meta.xml'))
      out.add(path.basename(file, '.label-meta.xml').toLowerCase());
  }
  return out;
}

export function loadProject(root: string, files: string[]): Project {
  const classFiles = new Map(
    files.filter((f) => f.endsWith('.cls')).map((f) => [path.basename(f, '.cls').toLowerCase(), f])
  );
  // parsed on demand: the ANTLR parser takes ~0.1 s per class, and a component names only a few
  const parsed = new Map<string, ApexFile | undefined>();
  const apex = (name: string): ApexFile | undefined => {
    const key = name.toLowerCase();
    if (!parsed.has(key)) {
      const file = classFiles.get(key);
      parsed.set(key, file ? readApexFile(file) : undefined);
    }
    return parsed.get(key);
  };
  return {
    root,
    files,
    schema: new Schema(root, files),
    apex,
    classCount: classFiles.size,
    bundles: new Set(lwcBundles(files).map((b) => b.name)),
    labels: customLabels(files),
    resources: namesBySuffix(files, '.resource-meta.xml'),
    messageChannels: namesBySuffix(files, '.messageChannel-meta.xml'),
    customPermissions: namesBySuffix(files, '.customPermission-meta.xml')
  };
}

function finding(ref: LwcReference, rule: string, message: string): Finding {
  return { file: ref.file, line: ref.line, column: ref.column, rule: `lwc-refs/${rule}`, message };
}

function apexImportFindings(
  ref: LwcReference,
  kind: 'apex' | 'apexContinuation',
  rest: string,
  project: Project
): Finding[] {
  const parts = rest.split('.');
  if (parts.length === 3) return []; // ns.Class.method: an installed package's class
  if (parts.length !== 2 || !parts[0] || !parts[1])
    return [finding(ref, 'apex-method', `'@salesforce/${kind}/${rest}' is not Class.method`)];
  const [className, methodName] = parts as [string, string];
  const apex = project.apex(className);
  if (!apex?.type)
    return [
      finding(
        ref,
        'apex-method',
        `imports ${className}.${methodName}, but the project has no Apex class ${className}: the deploy fails`
      )
    ];
  const method = apex.type.members.find(
    (m) => m.kind === 'method' && m.name.toLowerCase() === methodName.toLowerCase()
  );
  if (!method)
    return [
      finding(
        ref,
        'apex-method',
        `imports ${className}.${methodName}, but ${className} has no method ${methodName}: the deploy fails`
      )
    ];
  const aura = method.annotations.find((a) => a.name === 'auraenabled');
  const out: Finding[] = [];
  const at = `${className}.${methodName} (${path.relative(project.root, apex.file)}:${method.line})`;
  if (!aura)
    out.push(
      finding(
        ref,
        'apex-method',
        `${at} is not @AuraEnabled: add the annotation, or import another method`
      )
    );
  if (!method.isStatic)
    out.push(finding(ref, 'apex-method', `${at} must be static to be called from a component`));
  if (method.visibility !== 'public' && method.visibility !== 'global')
    out.push(
      finding(ref, 'apex-method', `${at} must be public or global to be called from a component`)
    );
  if (aura && kind === 'apexContinuation' && aura.params.get('continuation') !== 'true')
    out.push(
      finding(
        ref,
        'apex-method',
        `${at} is imported from @salesforce/apexContinuation but is not @AuraEnabled(continuation=true)`
      )
    );
  if (aura && ref.wired && aura.params.get('cacheable') !== 'true')
    out.push(
      finding(
        ref,
        'apex-method',
        `${at} is used with @wire but is not @AuraEnabled(cacheable=true): wired Apex must be cacheable`
      )
    );
  return out;
}

function schemaImportFindings(ref: LwcReference, rest: string, project: Project): Finding[] {
  const [objectName, ...fieldPath] = rest.split('.');
  if (!objectName) return [finding(ref, 'schema', `'@salesforce/schema/${rest}' names no object`)];
  const object = project.schema.object(objectName);
  if (!object) {
    if (/^[A-Za-z]\w*__(c|e|mdt|x|b)$/.test(objectName) && objectName.split('__').length === 2)
      return [
        finding(
          ref,
          'schema',
          `imports the object ${objectName}, which the project does not define: the deploy fails`
        )
      ];
    return []; // a standard object newer than the schema apexlink knows, or a namespaced one
  }
  if (fieldPath.length === 0) return [];
  const resolved = project.schema.resolvePath(object, fieldPath);
  if (resolved.kind !== 'missing') return [];
  return [
    finding(
      ref,
      'schema',
      `imports ${rest}, but ${resolved.object.name} has no field ${resolved.segment}${resolved.object.origin === 'standard' ? ' (standard schema as apexlink knows it, or the project)' : ''}: the deploy fails`
    )
  ];
}

function importFindings(ref: LwcReference, bundleDir: string, project: Project): Finding[] {
  const target = ref.target;
  const scoped = /^@salesforce\/(\w+)(?:\/(.*))?$/.exec(target);
  if (scoped) {
    const [, kind, rest = ''] = scoped as unknown as [string, string, string | undefined];
    switch (kind) {
      case 'apex':
      case 'apexContinuation':
        return rest ? apexImportFindings(ref, kind, rest, project) : [];
      case 'schema':
        return schemaImportFindings(ref, rest, project);
      case 'label': {
        const m = /^c\.(\w+)$/.exec(rest);
        return m && !project.labels.has(m[1]!.toLowerCase())
          ? [
              finding(
                ref,
                'label',
                `the custom label ${m[1]} is not defined in the project: the deploy fails`
              )
            ]
          : [];
      }
      case 'resourceUrl':
        return !rest.includes('__') && !project.resources.has(rest.toLowerCase())
          ? [
              finding(
                ref,
                'resource',
                `the static resource ${rest} is not defined in the project: the deploy fails`
              )
            ]
          : [];
      case 'messageChannel':
        return rest.split('__').length === 2 && !project.messageChannels.has(rest.toLowerCase())
          ? [
              finding(
                ref,
                'message-channel',
                `the message channel ${rest} is not defined in the project: the deploy fails`
              )
            ]
          : [];
      case 'customPermission':
        return !rest.includes('__') && !project.customPermissions.has(rest.toLowerCase())
          ? [
              finding(
                ref,
                'custom-permission',
                `the custom permission ${rest} is not defined in the project: the deploy fails`
              )
            ]
          : [];
      default:
        return [];
    }
  }
  if (target === 'lwc') return [];
  if (target.startsWith('.')) {
    const resolved = path.resolve(path.dirname(ref.file), target);
    const candidates = [resolved, `${resolved}.js`, path.join(resolved, 'index.js')];
    if (!resolved.startsWith(bundleDir + path.sep) && resolved !== bundleDir) {
      // a path out of the bundle (e.g. into a static resource folder) is not deployable component code
      return [
        finding(
          ref,
          'module',
          `imports ${target}, outside the bundle: a component can only import its own files, c/…, lightning/… and @salesforce/…`
        )
      ];
    }
    return candidates.some((c) => fs.existsSync(c) && fs.statSync(c).isFile())
      ? []
      : [finding(ref, 'module', `imports ${target}, but the bundle has no such file`)];
  }
  const [namespace, name, ...more] = target.split('/');
  if (namespace === 'c') {
    return name && more.length === 0 && project.bundles.has(name)
      ? []
      : [
          finding(
            ref,
            'component',
            `imports ${target}, but the project has no LWC bundle ${name ?? ''}: the deploy fails`
          )
        ];
  }
  if (namespace === 'lightning') {
    return name && more.length === 0 && lightningCatalogue().modules.has(name)
      ? []
      : [
          finding(
            ref,
            'component',
            `imports ${target}, which is not a lightning module (base-component catalogue of @salesforce/sfdx-lwc-jest)`
          )
        ];
  }
  if (name !== undefined) return []; // ns/component of an installed package
  return [
    finding(
      ref,
      'module',
      `imports '${target}': the platform resolves only lwc, c/…, lightning/…, @salesforce/… and ns/… modules, there is no npm in an org`
    )
  ];
}

function tagFindings(ref: LwcReference, project: Project): Finding[] {
  const [namespace] = ref.target.split('-');
  const name = tagToModuleName(ref.target);
  if (namespace === 'c' && !project.bundles.has(name))
    return [
      finding(
        ref,
        'component',
        `<${ref.target}> needs the LWC bundle ${name}, which the project does not have: the deploy fails`
      )
    ];
  if (namespace === 'lightning' && !lightningCatalogue().components.has(name))
    return [
      finding(
        ref,
        'component',
        `<${ref.target}> is not a base component (lightning/${name} is not a component in the catalogue of @salesforce/sfdx-lwc-jest)`
      )
    ];
  return [];
}

function elementFinding(file: string, element: XmlElement, rule: string, message: string): Finding {
  return { file, line: element.line, column: element.column, rule: `lwc-refs/${rule}`, message };
}

/** The `<targets>` and `<targetConfigs>` of a `.js-meta.xml`. */
export function targetFindings(file: string, tree: XmlElement): Finding[] {
  const out: Finding[] = [];
  const declared = new Set<string>();
  for (const targets of tree.children.filter((c) => c.name === 'targets')) {
    for (const target of targets.children.filter((c) => c.name === 'target')) {
      const value = target.text.trim();
      declared.add(value);
      if (!(value in TARGETS))
        out.push(
          elementFinding(
            file,
            target,
            'target',
            `'${value}' is not a documented LWC target (${Object.keys(TARGETS).slice(0, 4).join(', ')}, …)`
          )
        );
    }
  }
  for (const configs of tree.children.filter((c) => c.name === 'targetConfigs')) {
    for (const config of configs.children.filter((c) => c.name === 'targetConfig')) {
      const targets = (config.attributes?.targets ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      if (targets.length === 0)
        out.push(
          elementFinding(
            file,
            config,
            'target-config',
            '<targetConfig> without a targets attribute'
          )
        );
      for (const target of targets) {
        if (!declared.has(target))
          out.push(
            elementFinding(
              file,
              config,
              'target-config',
              `<targetConfig targets> names ${target}, which is not one of the bundle's <targets>`
            )
          );
        const allowed = TARGETS[target];
        if (!allowed) continue;
        for (const element of config.children) {
          if (!allowed.includes(element.name))
            out.push(
              elementFinding(
                file,
                element,
                'target-config',
                `<${element.name}> is not supported in a targetConfig for ${target} (allowed: ${allowed.join(', ') || 'none'})`
              )
            );
        }
      }
    }
  }
  return out;
}

export function lwcReferenceFindings(
  project: Project,
  only?: (file: string) => boolean
): Finding[] {
  const findings: Finding[] = [];
  for (const bundle of lwcBundles(project.files)) {
    for (const file of bundle.files) {
      if (only && !only(file)) continue;
      const source = readText(file);
      if (source instanceof Error) {
        findings.push({ file, line: 0, rule: 'lwc-refs/unreadable', message: source.message });
        continue;
      }
      if (file.endsWith('.js')) {
        for (const ref of jsReferences(file, source))
          findings.push(...importFindings(ref, bundle.dir, project));
      } else {
        for (const ref of templateReferences(file, source))
          findings.push(...tagFindings(ref, project));
      }
    }
    const meta = path.join(bundle.dir, `${bundle.name}.js-meta.xml`);
    if (only && !only(meta)) continue;
    const text = fs.existsSync(meta) ? readText(meta) : undefined;
    if (typeof text === 'string') {
      try {
        findings.push(...targetFindings(meta, readXml(text)));
      } catch {
        // malformed XML: the metadata check reports it
      }
    }
  }
  return findings;
}

/** Project files a component can see: everything but LWC Jest tests. */
export function deployableFiles(root: string): string[] {
  return packageFiles(root, (f) => !f.split(path.sep).includes('__tests__'));
}

export function checkLwcRefs(root: string): Promise<CheckResult> {
  return timed('lwc-refs', root, async (notes) => {
    const project = loadProject(root, deployableFiles(root));
    const findings = lwcReferenceFindings(project);
    const catalogue = lightningCatalogue();
    notes.push(
      `${lwcBundles(project.files).length} LWC bundle(s) resolved against ${project.classCount} Apex class(es), the project's objects and apexlink's standard schema, and ${catalogue.modules.size} lightning modules (${catalogue.components.size} components) from sfdx-lwc-jest`
    );
    return { findings };
  });
}

if (require.main === module) runCli(checkLwcRefs);
