import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = fileURLToPath(new URL('../../bin/foldercopy.js', import.meta.url));

const DEFAULT_TIMEOUT_MS = 60_000;
/** How long output may stay open after the process exited (its orphaned children can hold the pipes). */
const PIPE_GRACE_MS = 2_000;
const NOBODY_ID = 65534;

export interface RunOptions {
  cwd?: string;
  /** Laid over the cleaned environment; undefined removes a variable. */
  env?: Readonly<Record<string, string | undefined>>;
  timeoutMs?: number;
  /** Runs through setpriv as uid/gid 65534 with no supplementary groups; only root can. */
  asUser?: 'nobody';
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface StartedProcess {
  child: ChildProcess;
  /** Settles when the process exits; rejects (after killing its process group) on timeout. */
  result: Promise<RunResult>;
  stdoutSoFar(): string;
  stderrSoFar(): string;
  /** Sends `signal` to the whole process group, as Ctrl-C in a terminal does. */
  signalGroup(signal: NodeJS.Signals): void;
}

// CI detection and colour forcing change what a CLI prints; tests want what a user at a plain shell
// sees. NODE_OPTIONS and the VITEST_* variables are the test runner's, not the user's.
const UNWANTED_ENV =
  /^(CI|CONTINUOUS_INTEGRATION|BUILD_ID|BUILD_NUMBER|RUN_ID|GITHUB_ACTIONS|GITLAB_CI|TRAVIS|CIRCLECI|BUILDKITE|JENKINS_URL|TEAMCITY_VERSION|TF_BUILD|FORCE_COLOR|NO_COLOR|CLICOLOR|CLICOLOR_FORCE|NODE_DISABLE_COLORS|COLUMNS|LINES|NODE_OPTIONS|NODE_ENV|TEST|VITEST\w*)$/;

function childEnv(overrides: RunOptions['env'] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!UNWANTED_ENV.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** describe() that is skipped, with the reason in its name, unless the tests run as root. */
export function describeIfRoot(name: string, body: () => void): void {
  describe.skipIf(!isRoot())(isRoot() ? name : `${name} [skipped: needs root]`, body);
}

// Each command runs in its own process group so that a timeout can kill it with all its
// descendants, even those whose parent already exited. Groups still running when this test worker
// exits are killed too, so a hung command cannot outlive the test run.
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const group of liveGroups) killGroup(group, 'SIGKILL');
});

function killGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Starts argv[0] with argv[1..] without a terminal (stdin is /dev/null, stdout and stderr are pipes). */
export function startCommand(argv: readonly string[], opts: RunOptions = {}): StartedProcess {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (opts.asUser !== undefined && !isRoot()) throw new Error(`asUser: '${opts.asUser}' needs the tests to run as root`);
  const fullArgv =
    opts.asUser === 'nobody'
      ? ['setpriv', `--reuid=${NOBODY_ID}`, `--regid=${NOBODY_ID}`, '--clear-groups', '--', ...argv]
      : [...argv];
  const [command, ...args] = fullArgv;
  if (command === undefined) throw new Error('startCommand: empty argv');

  const startedAt = performance.now();
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const stdoutSoFar = (): string => Buffer.concat(stdout).toString('utf8');
  const stderrSoFar = (): string => Buffer.concat(stderr).toString('utf8');
  const group = child.pid;
  if (group !== undefined) liveGroups.add(group);

  const result = new Promise<RunResult>((resolve, reject) => {
    let graceTimer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      if (group !== undefined) liveGroups.delete(group);
    };
    const finish = (): void => {
      settle();
      resolve({
        exitCode: child.exitCode,
        signal: child.signalCode,
        stdout: stdoutSoFar(),
        stderr: stderrSoFar(),
        durationMs: performance.now() - startedAt,
      });
    };
    const timeoutTimer = setTimeout(() => {
      if (group !== undefined) killGroup(group, 'SIGKILL');
      settle();
      reject(new Error(`timed out after ${timeoutMs} ms: ${fullArgv.join(' ')}\n--- stderr so far ---\n${stderrSoFar()}`));
    }, timeoutMs);
    child.on('error', (error) => {
      settle();
      reject(error);
    });
    child.on('exit', () => {
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, PIPE_GRACE_MS);
    });
    child.on('close', finish);
  });
  // A test that fails before awaiting `result` must not also get an unhandled rejection.
  result.catch(() => undefined);

  return {
    child,
    result,
    stdoutSoFar,
    stderrSoFar,
    signalGroup: (signal) => {
      if (group !== undefined) killGroup(group, signal);
    },
  };
}

export function runCommand(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return startCommand(argv, opts).result;
}

export function startCli(args: readonly string[], opts: RunOptions = {}): StartedProcess {
  return startCommand([process.execPath, CLI_PATH, ...args], opts);
}

/** `node bin/foldercopy.js ...args` as a user would run it from a script: no terminal. */
export function runCli(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return startCli(args, opts).result;
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited, for the timeout error. */
  description?: string;
}

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 20, description = 'condition' }: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() >= deadline) throw new Error(`waitFor: ${description} not met within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------
// Pseudo-terminal
// ---------------------------------------------------------------------------

export interface PtyOptions extends Omit<RunOptions, 'asUser'> {
  columns?: number;
  rows?: number;
}

export interface PtyResult {
  exitCode: number | null;
  /** Everything written to the terminal (stdout and stderr together), escape sequences included. */
  output: string;
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs argv under a pseudo-terminal of a known size through util-linux `script`. The terminal's
 * newline translation (onlcr) is turned off, so every "\r" in the output was written by the program.
 * The exit code is the program's, or 128 + signal number if a signal killed it.
 */
export async function runInPty(argv: readonly string[], opts: PtyOptions = {}): Promise<PtyResult> {
  const columns = opts.columns ?? 100;
  const rows = opts.rows ?? 30;
  const shellCommand = `stty cols ${columns} rows ${rows} -onlcr && exec ${argv.map(shellQuote).join(' ')}`;
  const result = await runCommand(['script', '--quiet', '--return', '--flush', '--command', shellCommand, '/dev/null'], {
    ...opts,
    // script runs the command with $SHELL: pin it, as the quoting above is for a POSIX shell.
    env: { TERM: 'xterm-256color', COLUMNS: String(columns), LINES: String(rows), ...opts.env, SHELL: '/bin/sh' },
  });
  return { exitCode: result.exitCode, output: result.stdout };
}

export function runCliInPty(args: readonly string[], opts: PtyOptions = {}): Promise<PtyResult> {
  return runInPty([process.execPath, CLI_PATH, ...args], opts);
}
