/** Child-process helper that never throws: a missing binary, a crash or a timeout come back as data. */
import { spawn } from 'node:child_process';

export interface ProcessResult {
  /** Exit code, or null when the process was killed or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started (e.g. ENOENT) or timed out. */
  error?: string;
}

export interface RunOptions {
  cwd: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function runProcess(
  command: string,
  args: string[],
  options: RunOptions
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let error: string | undefined;
    let settled = false;
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe']
    });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            error = `timed out after ${options.timeoutMs} ms`;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ...(error ? { error } : {}) });
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code === 'ENOENT' ? `command not found: ${command}` : err.message;
      finish(null, null);
    });
    child.on('close', finish);
  });
}

/**
 * JVM options for the gate's Java tools (apexlink, PMD), each a run of a few seconds: the client compiler alone and
 * the serial collector spend much less CPU on such a run than the defaults, tuned for long-running servers (on 2
 * cores: apexlink 16.2 → 9.7 s of CPU, PMD 13.6 → 7.5, the gate's own Apex tests 23.5 → 16.2), and the gate's checks
 * share those 2 cores. Set as `JDK_JAVA_OPTIONS`, which the `java` launcher of every JDK since 9 reads (so it reaches
 * PMD, which Code Analyzer starts) and announces on stderr; a value the caller set is kept.
 */
export function preferShortRunJvm(): void {
  process.env.JDK_JAVA_OPTIONS ??= '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';
}

/** Last lines of a tool's output, to quote in a tool-error finding. */
export function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Removes ANSI colour codes (tools colour their output when CI or FORCE_COLOR is set). */
export function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
