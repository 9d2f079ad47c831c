/**
 * metadata: what a deploy would reject in the metadata files, checked offline.
 * (a) @salesforce/source-deploy-retrieve resolves every file of the package directories to a metadata type
 *     (unknown types fail) and converts the whole tree to Metadata API format;
 * (b) every XML file is well-formed (fast-xml-parser's XMLValidator, with line and column);
 * (c) every `.cls`/`.trigger` has its `-meta.xml` and every `-meta.xml` its source, every LWC bundle its
 *     `.js-meta.xml`;
 * (d) every metadata XML validates against the JSON Schema of its type generated from @salesforce/types:
 *     the root element must be the type name, unknown elements, wrong enum values, wrong scalar types and
 *     missing required scalar elements are reported at the line of the offending element;
 * (e) references between the project's own components (metadata-refs.ts);
 * (f) semantics beyond the schema (metadata-semantics.ts): the elements a custom field's type requires,
 *     FlexiPage components resolved against standard components and the project's exposed LWC bundles, and
 *     text elements within their documented length.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import {
  ComponentSet,
  ForceIgnore,
  MetadataConverter,
  MetadataResolver,
  type SourceComponent
} from '@salesforce/source-deploy-retrieve';
import type { ErrorObject } from 'ajv';
import { runCli, timed, type CheckResult, type Finding } from '../lib/findings';
import { MetadataValidators } from '../lib/metadata-schema';
import { buildInventory, referenceFindings } from './metadata-refs';
import {
  exposedBundles,
  fieldTypeFindings,
  flexiPageFindings,
  textLengthFindings
} from './metadata-semantics';
import { packageDirectories, readText, walkFiles } from '../lib/project';
import { elementAt, readXml, type XmlElement } from '../lib/xml';

/** Files SDR never deploys and the gate does not resolve (LWC Jest tests, TypeScript, editor configs). */
function isToolingFile(file: string): boolean {
  return (
    file.split(path.sep).includes('__tests__') ||
    file.endsWith('.ts') ||
    /(^|\/)(tsconfig|jsconfig)\.json$/.test(file) ||
    /(^|\/)\.(eslintrc\.json|prettierrc|DS_Store)$/.test(file)
  );
}

function sdrError(file: string, error: unknown): Finding {
  const err = error as Error;
  return {
    file,
    line: 0,
    rule: `sdr/${err.name || 'Error'}`,
    message: err.message.replace(`${file}: `, '')
  };
}

/** (a) Resolve each file to a type; returns the components whose own XML is that file. */
function resolveFiles(files: string[], findings: Finding[]): Map<string, SourceComponent> {
  const resolver = new MetadataResolver();
  const byXml = new Map<string, SourceComponent>();
  for (const file of files) {
    if (isToolingFile(file)) continue;
    try {
      for (const component of resolver.getComponentsFromPath(file)) {
        if (component.xml === file) byXml.set(file, component);
        for (const child of component.getChildren()) if (child.xml === file) byXml.set(file, child);
      }
    } catch (error) {
      findings.push(sdrError(file, error));
    }
  }
  return byXml;
}

/** (a) Whole-tree conversion to Metadata API format, as `sf project deploy` does before it uploads. */
async function convertTree(root: string, dirs: string[], findings: Finding[]): Promise<void> {
  const output = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-sdr-'));
  try {
    const set = ComponentSet.fromSource({ fsPaths: dirs });
    await new MetadataConverter().convert(set, 'metadata', {
      type: 'directory',
      outputDirectory: output
    });
  } catch (error) {
    const file = /(\/[^\s:]+)/.exec((error as Error).message)?.[1];
    findings.push(sdrError(file && fs.existsSync(file) ? file : root, error));
  } finally {
    fs.rmSync(output, { recursive: true, force: true });
  }
}

/** (b) Well-formedness; returns the parsed element tree of each well-formed file. */
function checkWellFormed(files: string[], findings: Finding[]): Map<string, XmlElement> {
  const trees = new Map<string, XmlElement>();
  for (const file of files) {
    const text = readText(file);
    if (text instanceof Error) {
      findings.push({ file, line: 0, rule: 'xml/unreadable', message: text.message });
      continue;
    }
    const result = XMLValidator.validate(text, { allowBooleanAttributes: true });
    if (result !== true) {
      findings.push({
        file,
        line: result.err.line,
        column: result.err.col,
        rule: `xml/${result.err.code}`,
        message: result.err.msg
      });
      continue;
    }
    try {
      trees.set(file, readXml(text));
    } catch (error) {
      findings.push({ file, line: 0, rule: 'xml/unreadable', message: (error as Error).message });
    }
  }
  return trees;
}

/** (c) Source/metadata pairs. */
function checkPairs(files: string[], findings: Finding[]): void {
  const present = new Set(files);
  for (const file of files) {
    if (/\.(cls|trigger)$/.test(file) && !present.has(`${file}-meta.xml`)) {
      findings.push({
        file,
        line: 0,
        rule: 'pairs/missing-meta-xml',
        message: `no ${path.basename(file)}-meta.xml next to it: the deploy drops or rejects it`
      });
    }
    const source = /^(.*\.(cls|trigger))-meta\.xml$/.exec(file)?.[1];
    if (source && !present.has(source)) {
      findings.push({
        file,
        line: 0,
        rule: 'pairs/missing-source',
        message: `no ${path.basename(source)} for this -meta.xml`
      });
    }
  }
  // LWC bundles: folders directly under an `lwc` folder
  const bundles = new Set(
    files
      .filter((f) => path.basename(path.dirname(path.dirname(f))) === 'lwc' && !isToolingFile(f))
      .map((f) => path.dirname(f))
  );
  for (const bundle of bundles) {
    const name = path.basename(bundle);
    const meta = path.join(bundle, `${name}.js-meta.xml`);
    if (!present.has(meta)) {
      findings.push({
        file: bundle,
        line: 0,
        rule: 'pairs/missing-js-meta-xml',
        message: `LWC bundle ${name} has no ${name}.js-meta.xml`
      });
    }
  }
}

function describe(error: ErrorObject, element: XmlElement): { rule: string; message: string } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return {
        rule: 'schema/unknown-element',
        message: `<${String(params.additionalProperty)}> is not an element of <${element.name}> in the Metadata API`
      };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const shown =
        allowed.length > 15
          ? `${allowed.slice(0, 15).join(', ')}, … (${allowed.length})`
          : allowed.join(', ');
      return {
        rule: 'schema/enum',
        message: `<${element.name}> value '${element.text.trim()}' is not one of: ${shown}`
      };
    }
    case 'required':
      return {
        rule: 'schema/required',
        message: `<${element.name}> lacks the required element <${String(params.missingProperty)}>`
      };
    case 'type':
      return {
        rule: 'schema/type',
        message:
          element.children.length > 0
            ? `<${element.name}> must be ${String(params.type)}, not nested elements`
            : `<${element.name}> must be ${String(params.type)}, got '${element.text.trim().slice(0, 60)}'`
      };
    default:
      return {
        rule: `schema/${error.keyword}`,
        message: `<${element.name}> ${error.message ?? 'is invalid'}`
      };
  }
}

/** (d) Schema validation of one metadata file of type `typeName`. */
export function schemaFindings(
  validators: MetadataValidators,
  file: string,
  typeName: string,
  tree: XmlElement
): Finding[] {
  if (tree.name !== typeName) {
    return [
      {
        file,
        line: tree.line,
        column: tree.column,
        rule: 'schema/root-element',
        message: `root element <${tree.name}> but this file is a ${typeName}: the root must be <${typeName}>`
      }
    ];
  }
  const validate = validators.validator(typeName);
  if (!validate) return [];
  const data = validators.shape(typeName, tree);
  if (data && typeof data === 'object') delete (data as Record<string, unknown>).fullName;
  if (validate(data)) return [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    // an empty element where the schema wants an object (e.g. <actionOverrides/>) is harmless
    if (
      error.keyword === 'type' &&
      error.data === '' &&
      (error.params as { type?: string }).type === 'object'
    )
      continue;
    const pointer =
      error.keyword === 'additionalProperties'
        ? `${error.instancePath}/${String((error.params as { additionalProperty: string }).additionalProperty)}`
        : error.instancePath;
    const element = elementAt(tree, pointer);
    const parent =
      error.keyword === 'additionalProperties' ? elementAt(tree, error.instancePath) : element;
    const { rule, message } = describe(error, parent === element ? element : parent);
    const finding: Finding = { file, line: element.line, column: element.column, rule, message };
    const key = `${finding.line}:${finding.column}:${rule}:${message}`;
    if (!seen.has(key)) findings.push(finding);
    seen.add(key);
  }
  return findings;
}

export function checkMetadata(root: string): Promise<CheckResult> {
  return timed('metadata', root, async (notes) => {
    const dirs = packageDirectories(root);
    const missing = dirs.filter((d) => !fs.existsSync(d));
    const findings: Finding[] = missing.map((d) => ({
      file: d,
      line: 0,
      rule: 'sdr/missing-package-directory',
      message: 'package directory listed in sfdx-project.json does not exist'
    }));
    // SDR resolves a whole tree as one LWC bundle when any folder above it is named `lwc`
    for (const dir of dirs) {
      if (path.dirname(dir).split(path.sep).includes('lwc')) {
        findings.push({
          file: dir,
          line: 0,
          rule: 'sdr/lwc-ancestor',
          message:
            'a folder above this package directory is named "lwc": SDR would treat the whole tree as one LWC bundle'
        });
      }
    }
    // what .forceignore excludes is never deployed, so it is not checked either
    const forceIgnore = ForceIgnore.findAndCreate(root);
    const files = dirs.flatMap((d) => walkFiles(d, (f) => !forceIgnore.denies(f)));
    const xmlFiles = files.filter((f) => f.endsWith('.xml') && !isToolingFile(f));

    const trees = checkWellFormed(xmlFiles, findings);
    const components = resolveFiles(files, findings);
    checkPairs(files, findings);
    if (!findings.some((f) => f.rule.startsWith('sdr/')))
      await convertTree(
        root,
        dirs.filter((d) => fs.existsSync(d)),
        findings
      );

    const validators = new MetadataValidators();
    let validated = 0;
    const noSchema = new Set<string>();
    for (const [file, component] of components) {
      const tree = trees.get(file);
      if (!tree) continue; // malformed: already reported
      if (!validators.has(component.type.name)) {
        noSchema.add(component.type.name);
        continue;
      }
      findings.push(...schemaFindings(validators, file, component.type.name, tree));
      validated++;
    }
    // (e) references between the project's own components
    const inventory = buildInventory(components.values(), trees);
    for (const [file, component] of components) {
      const tree = trees.get(file);
      if (tree) findings.push(...referenceFindings(file, component, tree, inventory));
    }
    // (f) semantics beyond the schema: field types' required elements, FlexiPage components
    const bundles = exposedBundles(components.values(), trees);
    const auraBundles = new Set(
      files
        .filter((f) => path.basename(path.dirname(path.dirname(f))) === 'aura')
        .map((f) => path.basename(path.dirname(f)))
    );
    for (const [file, component] of components) {
      const tree = trees.get(file);
      if (!tree) continue;
      if (component.type.name === 'CustomField')
        findings.push(...fieldTypeFindings(file, component.fullName, tree));
      if (component.type.name === 'FlexiPage')
        findings.push(...flexiPageFindings(file, tree, bundles, auraBundles, root));
      findings.push(...textLengthFindings(file, component.type.name, tree));
    }
    notes.push(
      `${files.length} file(s) resolved, ${xmlFiles.length} XML file(s) parsed, ${validated} validated against the Metadata API schema`
    );
    if (noSchema.size > 0)
      notes.push(`no schema in @salesforce/types for: ${[...noSchema].join(', ')}`);
    return { findings };
  });
}

if (require.main === module) runCli(checkMetadata);
