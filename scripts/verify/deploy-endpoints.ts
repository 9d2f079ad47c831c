/**
 * What a deploy would send as endpoint URLs: converts the project's Named Credentials and External Data Sources to
 * Metadata API format with the `sfdx-project.json` replacements applied (as `sf project deploy` does), under a given
 * environment, and reads every URL out of the converted files. Used by the `org-proof` check (no converted endpoint
 * may be empty) and by the tests of `org:setup`.
 *
 * `@salesforce/source-deploy-retrieve` applies replacements when it converts for a deploy (zip output) or when
 * `SF_APPLY_REPLACEMENTS_ON_CONVERT=true`; it reads `replaceWithEnv` values from `process.env` during conversion,
 * so the environment is swapped in for the conversion and restored afterwards (callers run one at a time).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComponentSet, MetadataConverter } from '@salesforce/source-deploy-retrieve';
import { packageFiles, walkFiles } from '../lib/project';
import { readXml, type XmlElement } from '../lib/xml';

/** Source suffixes of the metadata types whose files carry an endpoint URL. */
const ENDPOINT_SOURCES = ['.namedCredential-meta.xml', '.dataSource-meta.xml'];

export interface ConvertedEndpoint {
  /** `NamedCredential` or `ExternalDataSource`. */
  type: string;
  /** Developer name of the component. */
  name: string;
  /** The URL as converted, entities decoded. */
  url: string;
  /** The source file it came from (absolute). */
  source: string;
}

/** The outcome of one conversion: the endpoints, or the error the CLI would stop the deploy with. */
export type ConversionOutcome =
  { ok: true; endpoints: ConvertedEndpoint[] } | { ok: false; error: string };

/** Runs `body` with `env` as the only values of the variables it names (undefined = unset), then restores them. */
async function withEnvironment<T>(
  env: Readonly<Record<string, string | undefined>>,
  body: () => Promise<T>
): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(env)) {
    saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

function urlsOf(tree: XmlElement): string[] {
  if (tree.name === 'ExternalDataSource') return [child(tree, 'endpoint')?.text.trim() ?? ''];
  if (tree.name !== 'NamedCredential') return [];
  const urls = tree.children
    .filter((c) => c.name === 'namedCredentialParameters')
    .filter((p) => child(p, 'parameterType')?.text.trim() === 'Url')
    .map((p) => child(p, 'parameterValue')?.text.trim() ?? '');
  const legacy = child(tree, 'endpoint');
  return legacy ? [...urls, legacy.text.trim()] : urls;
}

/**
 * Converts the project's endpoint-carrying components with the replacements applied under `env` (variables
 * mapped to undefined are unset during the conversion).
 */
export async function convertEndpoints(
  root: string,
  env: Readonly<Record<string, string | undefined>>
): Promise<ConversionOutcome> {
  const sources = packageFiles(root, (f) => ENDPOINT_SOURCES.some((s) => f.endsWith(s)));
  if (sources.length === 0) return { ok: true, endpoints: [] };
  const output = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-endpoints-'));
  try {
    return await withEnvironment({ ...env, SF_APPLY_REPLACEMENTS_ON_CONVERT: 'true' }, async () => {
      const set = ComponentSet.fromSource({ fsPaths: sources });
      set.projectDirectory = root;
      try {
        await new MetadataConverter().convert(set, 'metadata', {
          type: 'directory',
          outputDirectory: output
        });
      } catch (error) {
        return { ok: false as const, error: (error as Error).message };
      }
      const bySuffix = new Map<string, string>();
      for (const source of sources) {
        const base = path.basename(source).replace(/-meta\.xml$/, '');
        bySuffix.set(base, source);
      }
      const endpoints: ConvertedEndpoint[] = [];
      for (const file of walkFiles(output, (f) => /\.(namedCredential|dataSource)$/.test(f))) {
        const tree = readXml(fs.readFileSync(file, 'utf8'));
        const base = path.basename(file);
        for (const url of urlsOf(tree)) {
          endpoints.push({
            type: tree.name,
            name: base.replace(/\.[^.]+$/, ''),
            url,
            source: bySuffix.get(base) ?? file
          });
        }
      }
      return { ok: true as const, endpoints };
    });
  } finally {
    fs.rmSync(output, { recursive: true, force: true });
  }
}
