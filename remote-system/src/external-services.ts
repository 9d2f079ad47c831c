/**
 * `npm run generate:external-services`: writes every Salesforce External Service registration the pattern modules
 * declare (`PatternModule.externalServices`), each embedding the OpenAPI 3.0 document `@fastify/swagger` generates
 * from the real routes, then formats the files with the project's Prettier. `remote-system/test/external-services`
 * fails while a committed registration differs from what this renders, so edit those XML files only through here.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from './config';
import {
  externalServiceDocument,
  renderExternalServiceRegistration,
  type OpenApiDocument
} from './openapi';
import type { ExternalServiceDescriptor, PatternModule } from './pattern-module';
import { patternModules } from './patterns';
import { buildServer } from './server';

export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');

export interface RenderedRegistration {
  readonly descriptor: ExternalServiceDescriptor;
  /** Absolute path of the XML file. */
  readonly file: string;
  readonly document: OpenApiDocument;
  readonly xml: string;
}

/**
 * Renders the registrations of `modules` (default: every mounted pattern, built from a configuration with an
 * in-memory database) from the document of a real, not listening, server.
 */
export async function renderExternalServices(
  modules?: readonly PatternModule[]
): Promise<RenderedRegistration[]> {
  const config = loadConfig({ DATABASE_PATH: ':memory:', LOG_LEVEL: 'silent' });
  const patterns = modules ?? patternModules(config);
  const app = await buildServer(config, { patterns, logger: false });
  try {
    await app.ready();
    const full = app.swagger() as unknown as OpenApiDocument;
    return patterns.flatMap((pattern) =>
      (pattern.externalServices ?? []).map((descriptor) => {
        const document = externalServiceDocument(full, descriptor);
        return {
          descriptor,
          file: path.resolve(REPOSITORY_ROOT, descriptor.file),
          document,
          xml: renderExternalServiceRegistration(descriptor, document)
        };
      })
    );
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const rendered = await renderExternalServices();
  for (const registration of rendered) writeFileSync(registration.file, registration.xml);
  const files = rendered.map((registration) => registration.file);
  if (files.length > 0) {
    const prettier = path.join(REPOSITORY_ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
    const run = spawnSync(process.execPath, [prettier, '--write', ...files], {
      cwd: REPOSITORY_ROOT,
      stdio: 'inherit'
    });
    if (run.status !== 0) throw new Error('prettier failed on the generated registrations');
  }
  for (const file of files) process.stdout.write(`wrote ${path.relative(REPOSITORY_ROOT, file)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
