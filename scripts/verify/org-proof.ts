/**
 * org-proof: mistakes that pass every offline tool and then fail in an org, each found once by a review against the
 * Salesforce references (issue 9) and checked here so the next pattern cannot repeat it.
 *
 * (a) `org-proof/eds-credential-options`: a Named Credential that an External Data Source reaches through
 *     `callout:<Name>` must have `generateAuthorizationHeader` true and both `allowMergeFieldsIn*` false. The Apex
 *     Developer Guide ("Custom Headers and Bodies of Apex Callouts That Use Named Credentials") says the header
 *     option is required when an External Data Source references the credential and the merge-field options are
 *     unavailable then: Salesforce Connect would call without the credential's authentication.
 * (b) `org-proof/static-after-delivery`: an Apex test reads a static field of a class that publishes platform
 *     events (calls `EventBus.publish…`) after `Test.stopTest()` or `Test.getEventBus().deliver()` in the same
 *     method. Event triggers run in their own context during delivery; assert on the records they store.
 *     `org-proof/static-before-delivery`: a test assigns a static of a class an event trigger calls, then calls
 *     `Test.getEventBus().deliver()`: the trigger does not see the value. Call the handler directly instead.
 *     Both are narrow on purpose (a static of such a class, in the same test method); the convention behind them is
 *     written in docs/adding-a-pattern.md.
 * (d) `org-proof/api-version-pin`: an Apex class or trigger saved at an API version below the project's
 *     `sourceApiVersion` must say why in a comment naming that version ("API 66.0 …"): versioned behaviour
 *     (user mode by default from 67.0) follows each class's own version, so a silent pin is a silent difference.
 * (c) `org-proof/empty-endpoint`: the Named Credential and External Data Source files, converted with the
 *     `sfdx-project.json` replacements under the environment `npm run org:setup` deploys with when
 *     `REMOTE_SYSTEM_URL` is unset, and under a bare environment (a hand-run `sf project deploy start`), must never
 *     carry an empty URL. A conversion that stops because the variable is unset is fine: the CLI says why.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, timed, type CheckResult, type Finding } from '../lib/findings';
import { lineColumnAt, packageFiles } from '../lib/project';
import { readXml, type XmlElement } from '../lib/xml';
import { convertEndpoints, type ConversionOutcome } from './deploy-endpoints';
import { deployEnvironment } from '../org/org-setup';

function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

function readTree(file: string): XmlElement | undefined {
  try {
    return readXml(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined; // malformed XML is the metadata check's finding
  }
}

const suffixName = (file: string, suffix: string): string => path.basename(file, suffix);

/** (a) Named Credentials used by External Data Sources. */
export function credentialFindings(root: string): Finding[] {
  const NC = '.namedCredential-meta.xml';
  const EDS = '.dataSource-meta.xml';
  const credentials = new Map<string, string>();
  for (const file of packageFiles(root, (f) => f.endsWith(NC)))
    credentials.set(suffixName(file, NC).toLowerCase(), file);
  const findings: Finding[] = [];
  const reported = new Set<string>();
  for (const file of packageFiles(root, (f) => f.endsWith(EDS))) {
    const dataSource = readTree(file);
    const endpoint = dataSource ? child(dataSource, 'endpoint') : undefined;
    const name = /^callout:([A-Za-z0-9_]+)/.exec(endpoint?.text.trim() ?? '')?.[1];
    if (!name) continue;
    const credentialFile = credentials.get(name.toLowerCase());
    if (!credentialFile || reported.has(credentialFile)) continue;
    reported.add(credentialFile);
    const tree = readTree(credentialFile);
    if (!tree) continue;
    const source = suffixName(file, EDS);
    const header = child(tree, 'generateAuthorizationHeader');
    if (header?.text.trim() !== 'true') {
      findings.push({
        file: credentialFile,
        line: header?.line ?? tree.line,
        column: header?.column ?? tree.column,
        rule: 'org-proof/eds-credential-options',
        message: `External Data Source ${source} calls through this Named Credential, so <generateAuthorizationHeader> must be true (required when an External Data Source references the credential; otherwise Salesforce Connect calls without its authentication)`
      });
    }
    for (const option of ['allowMergeFieldsInHeader', 'allowMergeFieldsInBody']) {
      const element = child(tree, option);
      if (element?.text.trim() === 'true') {
        findings.push({
          file: credentialFile,
          line: element.line,
          column: element.column,
          rule: 'org-proof/eds-credential-options',
          message: `External Data Source ${source} calls through this Named Credential, so <${option}> must be false (merge-field options are unavailable when an External Data Source references the credential)`
        });
      }
    }
  }
  return findings;
}

/** Apex source with comments and string literals blanked (offsets, lines and columns kept). */
export function maskApex(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:\\.|[^'\\\n])*'/g, (m) =>
    m.replace(/[^\n]/g, ' ')
  );
}

/**
 * Names of the static fields a class declares (top level or inner), read from masked source. Constants
 * (`UPPER_CASE` names) are left out: they hold the same value in every context.
 */
function staticFields(masked: string): Set<string> {
  const names = new Set<string>();
  const declaration =
    /\bstatic\s+(?:final\s+)?(?:transient\s+)?[A-Za-z_][\w.]*(?:\s*<[\w\s.,<>]*>)?(?:\[\])?\s+([A-Za-z_]\w*)\s*(?:=|;)/g;
  for (const m of masked.matchAll(declaration)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(m[1]!)) names.add(m[1]!);
  }
  return names;
}

interface ApexClassInfo {
  name: string;
  file: string;
  masked: string;
}

/** Bodies of the methods of a class: start offset of `{` and end offset of the matching `}`. */
function methodBodies(masked: string): { start: number; end: number }[] {
  const bodies: { start: number; end: number }[] = [];
  const header = /\b(?:static\s+)?(?:testMethod\s+)?void\s+\w+\s*\([^)]*\)\s*\{/g;
  for (const m of masked.matchAll(header)) {
    const open = m.index + m[0].length - 1;
    let depth = 0;
    for (let i = open; i < masked.length; i++) {
      if (masked[i] === '{') depth++;
      else if (masked[i] === '}' && --depth === 0) {
        bodies.push({ start: open, end: i });
        break;
      }
    }
  }
  return bodies;
}

const DELIVERY =
  /\bTest\s*\.\s*(?:stopTest\s*\(\s*\)|getEventBus\s*\(\s*\)\s*\.\s*deliver\s*\(\s*\))/gi;
const EXPLICIT_DELIVERY = /\bTest\s*\.\s*getEventBus\s*\(\s*\)\s*\.\s*deliver\s*\(\s*\)/gi;

/** (b) Statics of event publishers read after delivery, statics of event-trigger handlers set before it. */
export function staticFindings(root: string): Finding[] {
  const classes: ApexClassInfo[] = packageFiles(root, (f) => f.endsWith('.cls')).map((file) => ({
    name: path.basename(file, '.cls'),
    file,
    masked: maskApex(fs.readFileSync(file, 'utf8'))
  }));
  const publishers = new Map<string, Set<string>>();
  for (const info of classes) {
    if (/\bEventBus\s*\.\s*publish\w*\s*\(/i.test(info.masked)) {
      publishers.set(info.name.toLowerCase(), staticFields(info.masked));
    }
  }
  // classes an Apex trigger on a platform event (`__e`) or change event calls
  const handlers = new Map<string, Set<string>>();
  for (const file of packageFiles(root, (f) => f.endsWith('.trigger'))) {
    const masked = maskApex(fs.readFileSync(file, 'utf8'));
    if (!/\btrigger\s+\w+\s+on\s+\w+(?:__e|ChangeEvent)\s*\(/i.test(masked)) continue;
    for (const info of classes) {
      if (new RegExp(`\\b${info.name}\\s*\\.`, 'i').test(masked))
        handlers.set(info.name.toLowerCase(), staticFields(info.masked));
    }
  }
  const findings: Finding[] = [];
  for (const info of classes) {
    if (!/@IsTest\b/i.test(info.masked)) continue;
    for (const body of methodBodies(info.masked)) {
      const text = info.masked.slice(body.start, body.end);
      const deliveries = [...text.matchAll(DELIVERY)].map((m) => m.index);
      const explicit = [...text.matchAll(EXPLICIT_DELIVERY)].map((m) => m.index);
      if (deliveries.length === 0) continue;
      const firstDelivery = Math.min(...deliveries);
      const lastExplicit = explicit.length > 0 ? Math.max(...explicit) : -1;
      for (const m of text.matchAll(/\b([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)\b(\s*=(?!=))?/g)) {
        const owner = m[1]!.toLowerCase();
        const field = m[2]!;
        // masking keeps every offset, so the masked text locates the original
        const at = lineColumnAt(info.masked, body.start + m.index);
        if (m.index > firstDelivery && publishers.get(owner)?.has(field)) {
          findings.push({
            file: info.file,
            ...at,
            rule: 'org-proof/static-after-delivery',
            message: `${m[1]}.${field} is a static of a class that publishes platform events, read after Test.stopTest()/Test.getEventBus().deliver(): event triggers run in their own context during delivery, so assert on the records they store instead`
          });
        }
        if (m[3] && m.index < lastExplicit && handlers.get(owner)?.has(field)) {
          findings.push({
            file: info.file,
            ...at,
            rule: 'org-proof/static-before-delivery',
            message: `${m[1]}.${field} is a static of a class an event trigger calls, set before Test.getEventBus().deliver(): the trigger runs in its own context and does not see it; call the handler directly`
          });
        }
      }
    }
  }
  return findings;
}

function endpointFindings(outcome: ConversionOutcome, scenario: string): Finding[] {
  if (!outcome.ok) return [];
  return outcome.endpoints
    .filter((e) => e.url === '')
    .map((e) => ({
      file: e.source,
      line: 0,
      rule: 'org-proof/empty-endpoint',
      message: `${scenario}, the converted ${e.type} ${e.name} has an empty URL: the deploy would send it. Do not set allowUnsetEnvVariable on a replacement that fills a URL, and give the deploy a value (org:setup uses the placeholder)`
    }));
}

/** (c) Endpoints after the replacements, as org:setup deploys them and as a bare deploy would. */
export async function emptyEndpointFindings(root: string): Promise<Finding[]> {
  const unset: Record<string, string | undefined> = {};
  for (const name of Object.keys(deployEnvironment(undefined))) unset[name] = undefined;
  const viaSetup = await convertEndpoints(root, { ...unset, ...deployEnvironment(undefined) });
  const findings = endpointFindings(viaSetup, 'With REMOTE_SYSTEM_URL unset and npm run org:setup');
  if (!viaSetup.ok) {
    findings.push({
      file: path.join(root, 'sfdx-project.json'),
      line: 0,
      rule: 'org-proof/empty-endpoint',
      message: `the conversion npm run org:setup deploys with fails: ${viaSetup.error}`
    });
  }
  findings.push(
    ...endpointFindings(await convertEndpoints(root, unset), 'With REMOTE_SYSTEM_URL unset')
  );
  return findings;
}

/** (d) Apex saved below the project's API version without a stated reason. */
export function apiVersionFindings(root: string): Finding[] {
  let projectVersion: number;
  try {
    const config = JSON.parse(fs.readFileSync(path.join(root, 'sfdx-project.json'), 'utf8')) as {
      sourceApiVersion?: string;
    };
    projectVersion = Number(config.sourceApiVersion);
  } catch {
    return [];
  }
  if (!Number.isFinite(projectVersion)) return [];
  const findings: Finding[] = [];
  for (const meta of packageFiles(root, (f) => /\.(cls|trigger)-meta\.xml$/.test(f))) {
    const tree = readTree(meta);
    const element = tree ? child(tree, 'apiVersion') : undefined;
    const version = element?.text.trim() ?? '';
    if (!element || !(Number(version) < projectVersion)) continue;
    const source = meta.replace(/-meta\.xml$/, '');
    const text = fs.existsSync(source) ? fs.readFileSync(source, 'utf8') : '';
    const comments = text.match(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g) ?? [];
    const versionWords = new RegExp(
      `\\bAPI(?:\\s+version)?\\s+${version.replace('.', '\\.')}\\b`,
      'i'
    );
    if (comments.some((c) => versionWords.test(c))) continue;
    findings.push({
      file: meta,
      line: element.line,
      column: element.column,
      rule: 'org-proof/api-version-pin',
      message: `${path.basename(source)} is saved at API ${version}, below the project's ${projectVersion.toFixed(1)}: say why in its ApexDoc (a comment naming "API ${version}"), or save it at ${projectVersion.toFixed(1)}`
    });
  }
  return findings;
}

export function checkOrgProof(root: string): Promise<CheckResult> {
  return timed('org-proof', root, async (notes) => {
    const findings = [
      ...credentialFindings(root),
      ...staticFindings(root),
      ...apiVersionFindings(root),
      ...(await emptyEndpointFindings(root))
    ];
    notes.push(
      'rules: eds-credential-options, static-after-delivery, static-before-delivery, api-version-pin, empty-endpoint'
    );
    return { findings };
  });
}

if (require.main === module) runCli(checkOrgProof);
