import { spawn } from 'node:child_process';
import path from 'node:path';

/** The JSON envelope every `sf … --json` command prints. */
export interface SfJsonResult<T = unknown> {
  readonly status: number;
  readonly result?: T;
  readonly name?: string;
  readonly message?: string;
  readonly warnings?: readonly string[];
}

/**
 * Runs one `sf` command with `--json` and returns its parsed envelope. The org set-up logic only talks to the CLI
 * through this seam, so its tests can answer each call without an org.
 */
export interface SfRunner {
  run<T = unknown>(args: readonly string[], options?: SfRunOptions): Promise<SfJsonResult<T>>;
}

/** Per-call settings of {@link SfRunner.run}. */
export interface SfRunOptions {
  /** Variables added to the CLI's environment for this call (e.g. the `replaceWithEnv` values of a deploy). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Thrown when `sf` cannot be started or prints something that is not its JSON envelope. */
export class SfCliError extends Error {
  constructor(
    message: string,
    readonly args: readonly string[]
  ) {
    super(message);
    this.name = 'SfCliError';
  }
}

/** Environment that keeps the CLI quiet and offline-friendly: no telemetry, no auto-update, no version check. */
export const SF_QUIET_ENV: Readonly<Record<string, string>> = {
  SF_DISABLE_TELEMETRY: 'true',
  SF_AUTOUPDATE_DISABLE: 'true',
  SF_SKIP_NEW_VERSION_CHECK: 'true'
};

/** The project's pinned CLI (`@salesforce/cli` in devDependencies), not whatever `sf` is on the PATH. */
export function projectSfBinary(projectRoot: string): string {
  return path.join(projectRoot, 'node_modules', '.bin', 'sf');
}

/** An {@link SfRunner} that spawns the real CLI. Non-zero exits still resolve: the envelope says what failed. */
export function createSfCliRunner(
  projectRoot: string,
  sfBinary = projectSfBinary(projectRoot)
): SfRunner {
  return {
    run<T>(args: readonly string[], options: SfRunOptions = {}): Promise<SfJsonResult<T>> {
      return new Promise((resolve, reject) => {
        const child = spawn(sfBinary, [...args, '--json'], {
          cwd: projectRoot,
          env: { ...process.env, ...options.env, ...SF_QUIET_ENV },
          stdio: ['ignore', 'pipe', 'pipe']
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.on('error', (error) =>
          reject(new SfCliError(`could not start ${sfBinary}: ${error.message}`, args))
        );
        child.on('close', (code) => {
          try {
            resolve(parseSfJson<T>(stdout));
          } catch {
            reject(
              new SfCliError(
                `sf ${args.join(' ')} exited ${code} without JSON output: ${(stderr || stdout).trim().slice(0, 500)}`,
                args
              )
            );
          }
        });
      });
    }
  };
}

/** Parses the CLI's JSON envelope, tolerating warnings printed before the JSON starts. */
export function parseSfJson<T>(stdout: string): SfJsonResult<T> {
  const start = stdout.indexOf('{');
  if (start < 0) throw new SyntaxError('no JSON object in output');
  const parsed: unknown = JSON.parse(stdout.slice(start));
  if (typeof parsed !== 'object' || parsed === null || !('status' in parsed)) {
    throw new SyntaxError('output is not an sf JSON envelope');
  }
  return parsed as SfJsonResult<T>;
}
