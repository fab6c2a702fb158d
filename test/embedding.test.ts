// The library embedded the ways people run Node: from `node -e`, `node -p`, an ESM eval, a
// worker thread, and under --require/--import hooks. Each run must fork exactly the worker
// processes asked for, running the worker bundle and nothing else: a worker forked with the
// parent's flags would re-run the embedding script and fork again, without end. Every run is
// bounded: killed (whole process group) at a time limit, and as soon as it has more processes
// than it may.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { listDescendants, processCommandLine } from './helpers/processes.js';
import { REPO_ROOT, startCommand } from './helpers/run-cli.js';
import { diffTrees, snapshotTree, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const LIBRARY = pathToFileURL(path.join(REPO_ROOT, 'dist', 'index.js')).href;
const WORKER_BUNDLE = path.join(REPO_ROOT, 'dist', 'worker.js');
const JOBS = 2;
// More descendants than this and the run is a runaway: it is killed at once.
const MAX_DESCENDANTS = JOBS + 2;

// Reads SRC and DST from the environment, copies, prints the summary's counts as one JSON line.
const COPY = `import(${JSON.stringify(LIBRARY)}).then((m) => m.copyFolder(process.env.SRC, process.env.DST, { jobs: ${JOBS} }))`;
const PRINT = `.then((s) => console.log(JSON.stringify({ files: s.files, failed: s.failures.length })))`;

interface Embedded {
  stdout: string;
  exitCode: number | null;
  /** Every process seen below the embedding process while it ran, with its command line. */
  descendants: Map<number, string>;
}

async function runEmbedded(argv: string[], env: Record<string, string>, maxDescendants = MAX_DESCENDANTS): Promise<Embedded> {
  const started = startCommand(argv, { env, cwd: env.ROOT, timeoutMs: 30_000 });
  const pid = started.child.pid!;
  const descendants = new Map<number, string>();
  let done = false;
  const sampling = (async () => {
    while (!done) {
      const now = listDescendants(pid);
      // The last command line seen: between fork and exec a child still shows its parent's, a zombie none.
      for (const child of now) descendants.set(child, processCommandLine(child) || descendants.get(child) || '(gone)');
      if (now.length > maxDescendants) started.signalGroup('SIGKILL');
      await sleep(5);
    }
  })();
  try {
    const result = await started.result;
    return { stdout: result.stdout, exitCode: result.exitCode, descendants };
  } finally {
    done = true;
    await sampling;
    started.signalGroup('SIGKILL');
  }
}

async function makeTree(): Promise<{ root: string; src: string; dst: string }> {
  const root = await tempDir();
  const src = path.join(root, 'src');
  const spec: Record<string, string> = {};
  // Enough batches that the pool starts both of its workers.
  for (let i = 0; i < 1200; i++) spec[`d${i % 4}/f${i}.txt`] = `file ${i}\n`;
  await writeTree(src, spec);
  return { root, src, dst: path.join(root, 'dst') };
}

function expectOnlyWorkers(run: Embedded): void {
  const commandLines = [...run.descendants.values()];
  expect(commandLines.filter((line) => !line.endsWith(WORKER_BUNDLE) && line !== '(gone)')).toEqual([]);
  expect(run.descendants.size).toBeLessThanOrEqual(JOBS);
  expect(run.descendants.size).toBeGreaterThanOrEqual(1);
}

async function expectCopied(run: Embedded, src: string, dst: string): Promise<void> {
  expect(run.exitCode, run.stdout).toBe(0);
  expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({ files: 1200, failed: 0 });
  expect(diffTrees(await snapshotTree(src), await snapshotTree(dst))).toEqual([]);
}

describe('the library, embedded: exactly the workers asked for, and nothing re-run', () => {
  const cases: Array<[string, (hook: string) => { argv: string[]; env?: Record<string, string> }]> = [
    ['node -e', () => ({ argv: ['node', '-e', COPY + PRINT] })],
    ['node -p', () => ({ argv: ['node', '-p', `${COPY}${PRINT}, ''`] })],
    ['node --input-type=module -e', () => ({ argv: ['node', '--input-type=module', '-e', `await ${COPY}${PRINT};`] })],
    [
      'a worker thread',
      () => ({
        argv: ['node', '-e', `new (require('node:worker_threads').Worker)(${JSON.stringify(COPY + PRINT)}, { eval: true })`],
      }),
    ],
    ['node --require hook -e', (hook) => ({ argv: ['node', '--require', hook, '-e', COPY + PRINT] })],
    ['node --import hook -e', (hook) => ({ argv: ['node', '--import', pathToFileURL(hook).href, '-e', COPY + PRINT] })],
    ['NODE_OPTIONS=--require hook, node -e', (hook) => ({ argv: ['node', '-e', COPY + PRINT], env: { NODE_OPTIONS: `--require ${hook}` } })],
  ];
  for (const [how, make] of cases) {
    it(`from ${how}`, async () => {
      const { root, src, dst } = await makeTree();
      // A hook that records each process it runs in: only the embedding process may load it.
      const hook = path.join(root, 'hook.cjs');
      const hookLog = path.join(root, 'hook.log');
      fs.writeFileSync(hook, `require('node:fs').appendFileSync(${JSON.stringify(hookLog)}, process.pid + '\\n');\n`);
      const { argv, env = {} } = make(hook);

      const run = await runEmbedded(argv, { ROOT: root, SRC: src, DST: dst, ...env });

      await expectCopied(run, src, dst);
      expectOnlyWorkers(run);
      if (argv.includes(hook) || argv.some((arg) => arg.endsWith('hook.cjs')) || env.NODE_OPTIONS) {
        expect(fs.readFileSync(hookLog, 'utf8').trim().split('\n')).toHaveLength(1);
      }
    });
  }
});

describe('the library under vitest, in its threads and forks pools', () => {
  for (const pool of ['threads', 'forks'] as const) {
    it(`completes with at most the workers asked for (--pool ${pool})`, async () => {
      const { root, src, dst } = await makeTree();
      const project = path.join(root, 'project');
      fs.mkdirSync(project);
      // A test file of a user's project that copies a tree with the library (vitest's globals: no import to resolve).
      fs.writeFileSync(
        path.join(project, 'copy.test.mjs'),
        `test('copies', async () => {
           const summary = await ${COPY};
           expect(summary.failures).toEqual([]);
           expect(summary.files).toBe(1200);
         }, 30000);\n`,
      );
      const vitest = path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');

      // Vitest has processes of its own (a fork per file, esbuild's service): a few more are allowed.
      const run = await runEmbedded(['node', vitest, 'run', '--root', project, '--globals', '--pool', pool], { ROOT: root, SRC: src, DST: dst }, MAX_DESCENDANTS + 4);

      expect(run.exitCode, run.stdout).toBe(0);
      expect(diffTrees(await snapshotTree(src), await snapshotTree(dst))).toEqual([]);
      const workers = [...run.descendants.values()].filter((line) => line.endsWith(WORKER_BUNDLE));
      expect(workers.length).toBeGreaterThanOrEqual(1);
      expect(workers.length).toBeLessThanOrEqual(JOBS);
    });
  }
});
