/**
 * One worker process as the parent sees it: how it is forked, its lifecycle as
 * an explicit state machine (starting → ready → stopping → exited), and the
 * batches it holds.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire as requireFrom } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Job } from '../shared/jobs.js';
import { isFromWorker, type CopyBatch, type FromWorker } from '../shared/protocol.js';

/** The worker's bundle; every bundle that can start a pool (main.js, index.js) sits beside it in dist/. */
export const WORKER_PATH = fileURLToPath(new URL('./worker.js', import.meta.url));

const STDERR_TAIL_CHARS = 2000;
// As jest-worker and vitest: a worker asked to leave gets this long before SIGKILL.
const EXIT_GRACE_MS = 500;

export type WorkerState = 'starting' | 'ready' | 'stopping' | 'exited';

const NEXT_STATES: Record<WorkerState, readonly WorkerState[]> = {
  starting: ['ready', 'stopping', 'exited'],
  ready: ['stopping', 'exited'],
  stopping: ['exited'],
  exited: [],
};

/** A batch as the pool tracks it: jobs [0, confirmed) are finished and reported. */
export interface Batch {
  id: number;
  jobs: Job[];
  confirmed: number;
  /** A retry after a crash: one job, which fails for good if it crashes again. */
  retry: boolean;
}

export interface WorkerEvents {
  onMessage: (worker: WorkerProcess, message: FromWorker) => void;
  onBadMessage: (worker: WorkerProcess, message: unknown) => void;
  /** `before`: the state it left, which tells a crash from a requested exit and a start-up failure. */
  onExit: (worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null, before: WorkerState) => void;
}

export class WorkerProcess {
  readonly pid: number;
  /** In the order sent; the worker runs them in that order, so only the first has started. */
  readonly inFlight: Batch[] = [];
  /** Since when the jobs it will confirm next have been running: their time, for the pool's pace. */
  busySince = 0;
  /** It has confirmed jobs before: its times no longer include loading the code they call. */
  warm = false;
  private currentState: WorkerState;
  private stderrTail = '';
  readonly exited: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    events: WorkerEvents,
  ) {
    this.pid = child.pid ?? -1;
    this.currentState = 'starting';
    let markExited!: () => void;
    this.exited = new Promise((resolve) => (markExited = resolve));
    const exit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.currentState === 'exited') return;
      const before = this.currentState;
      this.moveTo('exited');
      events.onExit(this, code, signal, before);
      markExited();
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    child.on('message', (message: unknown) => {
      if (!isFromWorker(message)) {
        events.onBadMessage(this, message);
        return;
      }
      if (message.type === 'ready' && this.currentState === 'starting') this.moveTo('ready');
      events.onMessage(this, message);
    });
    child.on('error', (error) => {
      // EPIPE and failed sends surface here and 'exit' follows. A failed spawn has no process
      // and may never see 'exit': it is the start-up failure, or the copy would wait for ever.
      if (child.pid !== undefined) return;
      this.stderrTail = error.message;
      exit(null, null);
    });
    child.on('exit', exit);
  }

  get state(): WorkerState {
    return this.currentState;
  }

  /** Ready, connected, and holding fewer than `limit` batches. */
  canTake(limit: number): boolean {
    return this.currentState === 'ready' && this.child.connected && this.inFlight.length < limit;
  }

  send(message: CopyBatch): void {
    // A send to a worker that is dying fails in its 'error' event; its 'exit' re-queues the batch.
    this.child.send(message);
  }

  /** Asks it to leave: it exits on its own when its channel closes (see worker/worker.ts). */
  stop(): void {
    if (this.currentState === 'exited' || this.currentState === 'stopping') return;
    this.moveTo('stopping');
    if (this.child.connected) this.child.disconnect();
    else this.child.kill('SIGKILL');
  }

  kill(): void {
    if (this.currentState !== 'exited') this.child.kill('SIGKILL');
  }

  /** What the process said before it died: the error line of an uncaught exception, else the last line. */
  lastWords(): string {
    const lines = this.stderrTail.split('\n').map((line) => line.trim()).filter(Boolean);
    return lines.find((line) => /^[\w.]*Error\b/.test(line)) ?? lines.filter((line) => !line.startsWith('Node.js v')).at(-1) ?? '';
  }

  /** Everything it wrote to stderr lately, for a worker that could not start at all. */
  output(): string {
    return this.stderrTail.trim();
  }

  private moveTo(next: WorkerState): void {
    if (!NEXT_STATES[this.currentState].includes(next)) throw new Error(`worker ${this.pid}: no transition from ${this.currentState} to ${next}`);
    this.currentState = next;
  }
}

/** Asks each to leave, kills those still there after EXIT_GRACE_MS, and resolves once all have exited. */
export async function stopAll(workers: readonly WorkerProcess[]): Promise<void> {
  for (const worker of workers) worker.stop();
  const killTimer = setTimeout(() => {
    for (const worker of workers) worker.kill();
  }, EXIT_GRACE_MS);
  await Promise.all(workers.map((worker) => worker.exited));
  clearTimeout(killTimer);
}

// Loaded at the first fork: a library caller's copy that forks no worker (a few hundred files) spares
// its start-up Node's child_process and the networking modules under it (the CLI's commander loads them).
const load = requireFrom(import.meta.url);

export function forkWorker(workerPath: string): ChildProcess {
  const { fork } = load('node:child_process') as typeof import('node:child_process');
  return fork(workerPath, [], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // Never the parent's flags: under `node -e` or `node -p` they hold the embedding script,
    // which each worker would run again and fork again; a debugger flag would make every
    // worker bind the parent's inspector port. The worker is plain JavaScript and needs none.
    execArgv: [],
    env: workerEnvironment(),
  });
}

/**
 * Variables a worker must not inherit. NODE_OPTIONS can carry the same flags
 * as execArgv (--require and --import hooks, --inspect). And workers make no
 * TLS connections, while Node parses every certificate in NODE_EXTRA_CA_CERTS
 * as it starts: with a system bundle there (common behind a corporate proxy,
 * and on this project's machine) that is ~60 ms of CPU per worker.
 */
const NOT_INHERITED = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'];

function workerEnvironment(): NodeJS.ProcessEnv {
  if (NOT_INHERITED.every((name) => process.env[name] === undefined)) return process.env;
  const env = { ...process.env };
  for (const name of NOT_INHERITED) delete env[name];
  return env;
}
