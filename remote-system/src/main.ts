/**
 * `npm start`: creates and seeds the database on first run, starts the ERP on PORT (3000), prints the console URL
 * and every pattern's endpoints, and shuts down gracefully on SIGINT/SIGTERM (stop accepting, let in-flight requests
 * finish, close the database).
 */
import { ConfigError, assertSafeExposure, loadConfig, loadEnvFile, type AppConfig } from './config';
import { isSeeded, openDatabase, seedDatabase } from './db';
import { buildServer } from './server';

function prepareDatabase(config: AppConfig) {
  const db = openDatabase(config.databasePath);
  if (!isSeeded(db)) {
    console.log(
      `Seeding ${config.databasePath} (${config.seedShipments.toLocaleString('en-US')} shipments)…`
    );
    const report = seedDatabase(db, { shipments: config.seedShipments });
    console.log(
      `Seeded ${report.customers} customers, ${report.products} products, ${report.orders} orders, ` +
        `${report.shipments.toLocaleString('en-US')} shipments in ${(report.durationMs / 1000).toFixed(1)} s.`
    );
  }
  return db;
}

/** The protection in force, printed at start-up (the console shows the same with live counters). */
function securityLines(config: AppConfig): string[] {
  const { rateLimit } = config;
  return [
    `  security  ${config.exposure.exposed ? `reachable from outside (${config.exposure.reasons.join(', ')})` : 'loopback only'}; ` +
      `console ${config.consoleAccess === 'local' ? 'on this machine only' : 'open to anyone who reaches it'} (CONSOLE_ACCESS=${config.consoleAccess})`,
    rateLimit.max === 0
      ? '            rate limit off (RATE_LIMIT_MAX=0)'
      : `            rate limit ${rateLimit.max} requests per ${rateLimit.windowSeconds} s per secret, ` +
        `${rateLimit.anonymousMax} per client without one`,
    ...(config.previousSharedSecret === undefined
      ? []
      : [
          '            rotation: ERP_SHARED_SECRET_PREVIOUS is accepted too; remove it once the console shows no more uses'
        ])
  ];
}

async function main(): Promise<void> {
  const envFile = loadEnvFile();
  if (envFile !== undefined) console.log(`Loaded settings from ${envFile}`);
  const config = loadConfig();
  // Before the database is touched: an exposed server with the development secret does not start at all.
  assertSafeExposure(config);
  const db = prepareDatabase(config);
  const app = await buildServer(config, { db });
  app.addHook('onClose', async () => db.close());

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const local = `http://localhost:${port}`;
  const lines = [
    '',
    `ERP remote system listening on ${local}`,
    `  console   ${local}/`,
    `  health    ${local}/health`,
    `  openapi   ${local}/openapi.json`,
    `  public    ${config.publicUrl}  (what the org's Named Credential must point at)`
  ];
  for (const pattern of app.erp.patterns) {
    lines.push('', `  ${pattern.title} (/${pattern.name}, bearer auth)`);
    for (const endpoint of app.erp.endpoints.get(pattern.name) ?? []) {
      lines.push(
        `    ${endpoint.method.padEnd(6)} ${config.publicUrl}/${pattern.name}${endpoint.path}  ${endpoint.description}`
      );
    }
  }
  if (app.erp.patterns.length === 0) lines.push('', '  (no pattern modules registered yet)');
  lines.push('', ...securityLines(config));
  if (config.usingDefaultSecret) {
    lines.push(
      '',
      'WARNING: ERP_SHARED_SECRET is not set; using the development secret, on loopback only (with a non-loopback',
      '         HOST or PUBLIC_URL the server refuses to start). Generate one with `openssl rand -hex 32` and put the',
      '         same value in the org (External Credential ERP_Credential → ApiKey).'
    );
  }
  if (config.exposure.exposed && config.consoleAccess === 'open') {
    lines.push(
      '',
      `WARNING: CONSOLE_ACCESS=open on a server reachable from outside (${config.exposure.reasons.join(', ')}):`,
      '         anyone who reaches it can watch the traffic and change the fault knobs.'
    );
  }
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`${signal} again: exiting now.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal} received: finishing in-flight requests…`);
    const timer = setTimeout(() => {
      console.error('Shutdown took longer than 10 s; exiting.');
      process.exit(1);
    }, 10_000);
    timer.unref();
    app.close().then(
      () => console.log('Stopped.'),
      (error: unknown) => {
        console.error('Shutdown failed', error);
        process.exitCode = 1;
      }
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
