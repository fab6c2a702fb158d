// Small helpers around child processes and errors shared by the bench modules.
import { spawn, spawnSync } from 'node:child_process';

/** An expected failure: run.mjs prints its message as one line, without a stack. */
export class BenchError extends Error {}

/** @param {string} name */
export function hasTool(name) {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', name]).status === 0;
}

/**
 * Runs a command to completion and returns its stdout; throws BenchError with
 * the command and the last line of its stderr when it fails.
 * @param {string} cmd @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [options]
 */
export function runSync(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error) throw new BenchError(`${cmd}: ${result.error.message}`);
  if (result.status !== 0) {
    const why = lastLine(String(result.stderr ?? '')) || `exit ${result.status ?? result.signal}`;
    throw new BenchError(`${cmd} ${args.join(' ')} failed: ${why}`);
  }
  return String(result.stdout ?? '');
}

/** @type {Set<import('node:child_process').ChildProcess>} */
const helpers = new Set();

/** Stops helper commands still running (npm ci, tar, rm) so the image can be unmounted. */
export function killHelpers() {
  for (const child of helpers) child.kill('SIGKILL');
}

/**
 * Async variant for long commands (npm ci, tar, rm -rf of a million files), so
 * that a Ctrl-C handler can run while they go.
 * @param {string} cmd @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [options]
 * @returns {Promise<{stdout: string, stderr: string}>}
 */
export function runAsync(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    helpers.add(child);
    child.on('exit', () => helpers.delete(child));
    const out = new Tail();
    const err = new Tail();
    child.stdout?.on('data', (chunk) => out.push(chunk));
    child.stderr?.on('data', (chunk) => err.push(chunk));
    child.on('error', (error) => reject(new BenchError(`${cmd}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout: out.text(), stderr: err.text() });
      else {
        const why = lastLine(err.text()) || `exit ${code ?? signal}`;
        const e = new BenchError(`${cmd} ${args.join(' ')} failed: ${why}`);
        /** @type {any} */ (e).stderr = err.text();
        reject(e);
      }
    });
  });
}

/** Keeps the last `limit` bytes of a stream: a chatty progress bar must not grow memory. */
export class Tail {
  constructor(limit = 64 * 1024) {
    this.limit = limit;
    /** @type {Buffer[]} */
    this.chunks = [];
    this.size = 0;
    this.dropped = 0;
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      const first = /** @type {Buffer} */ (this.chunks.shift());
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  text() {
    const body = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped ? `[… ${this.dropped} bytes dropped …]\n${body}` : body;
  }
}

/** @param {string} text */
export function lastLine(text) {
  const lines = text.split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

/**
 * The line of a tool's stderr that says what went wrong. A Node crash ends
 * with a stack, an error object dump and "Node.js v20…", so the last line
 * alone says nothing: prefer the last line that names an error.
 * @param {string} text
 */
export function errorLine(text) {
  const lines = text.split(/[\r\n]+/).map((l) => l.trim())
    .filter((l) => l && !/^Node\.js v\d/.test(l) && !/^at\s/.test(l) && !/^[{}^]$/.test(l) && !/^\w+: '.*',?$/.test(l));
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/\b\w*(Error|error|ERR_[A-Z_]+|E[A-Z]{3,})\b/.test(/** @type {string} */ (lines[i]))) return /** @type {string} */ (lines[i]);
  }
  return lines[lines.length - 1] ?? '';
}

/** Synchronous sleep, for cleanup paths that cannot await (exit handlers). */
export function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
