// A plan directory edited or cut after planning (a part file or directories.ndjson not as planning
// wrote it): --check, --finalize and the part that reads the file refuse it (exit 2), naming the file,
// instead of proving, finalizing or copying a plan that is not the one made. The real CLI, real files.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, finalize, makePlan, planCli, runParts, type PlannedRun } from './helpers/planned-run.js';
import { useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();

const partFile = (run: PlannedRun, k: number): string => path.join(run.plan, 'parts', `${String(k).padStart(6, '0')}.ndjson`);
const DAMAGED = 'the plan is damaged: this file is not what planning wrote (edited or cut since: its SHA-256 is not the one plan.json holds); make the plan again';

/** Six files planned in two parts; copied and finalized unless told not to. */
async function planned({ copy }: { copy: boolean }): Promise<PlannedRun> {
  const root = await tempDir();
  const source = path.join(root, 'src');
  await writeTree(source, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n', 'd/e.txt': 'e\n', 'd/f.txt': 'f\n', 'g.txt': 'g\n' });
  const { run, made } = await makePlan(root, { source, destination: path.join(root, 'dst'), parts: 2 });
  expect(made.exitCode).toBe(0);
  if (copy) {
    expect((await runParts(run)).map((part) => part.exitCode)).toEqual([0, 0]);
    expect((await finalize(run)).exitCode).toBe(0);
    expect((await check(run)).exitCode).toBe(0);
  }
  return run;
}

/** The file without its last line: cut at a line's end, so that every line left still reads. */
function dropLastLine(file: string): void {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  expect(lines.length).toBeGreaterThan(1);
  fs.writeFileSync(file, `${lines.slice(0, -1).join('\n')}\n`);
}

describe('a damaged plan', () => {
  it('--check refuses a part file cut or edited since planning, naming it (exit 2, not complete)', async () => {
    const run = await planned({ copy: true });
    const file = partFile(run, 0);
    const original = fs.readFileSync(file);
    dropLastLine(file);
    const cut = await check(run, ['--json']);
    expect(cut.stderr).toBe(`foldercopy: cannot read the plan: ${file}: ${DAMAGED}\n`);
    expect(cut.exitCode).toBe(2);
    expect(JSON.parse(cut.stdout)).toMatchObject({ status: 'refused', exitCode: 2 });

    fs.writeFileSync(file, original.toString('utf8').replace(/"size":2/, '"size":3'));
    const edited = await check(run);
    expect(edited.stderr).toBe(`foldercopy: cannot read the plan: ${file}: ${DAMAGED}\n`);
    expect(edited.exitCode).toBe(2);
    fs.writeFileSync(file, original);
    expect((await check(run)).exitCode).toBe(0);
  });

  it('--check refuses an edited directories.ndjson, and a listing that no longer matches plan.json', async () => {
    const run = await planned({ copy: true });
    const directories = path.join(run.plan, 'directories.ndjson');
    fs.writeFileSync(directories, fs.readFileSync(directories, 'utf8').replace(/"mode":\d+/, '"mode":16832'));
    const edited = await check(run);
    expect(edited.stderr).toBe(`foldercopy: cannot read the plan: ${directories}: ${DAMAGED}\n`);
    expect(edited.exitCode).toBe(2);
    // Without the per-file digests (a plan that has only the listing's), the listing still tells.
    const header = path.join(run.plan, 'plan.json');
    const json = JSON.parse(fs.readFileSync(header, 'utf8')) as Record<string, unknown>;
    delete json.digests;
    fs.writeFileSync(header, JSON.stringify(json));
    const listing = await check(run);
    expect(listing.stderr).toMatch(new RegExp(`^foldercopy: cannot read the plan: ${header}: the plan is damaged: its part files and directories.ndjson are not what planning wrote`));
    expect(listing.exitCode).toBe(2);
  });

  it('the part whose file was edited refuses to copy, naming it; another part copies; --finalize refuses', async () => {
    const run = await planned({ copy: false });
    const file = partFile(run, 1);
    dropLastLine(file);
    const damaged = await planCli(['--plan', run.plan, '--part', '1']);
    expect(damaged.stderr).toBe(`foldercopy: ${file}: ${DAMAGED}\n`);
    expect(damaged.exitCode).toBe(2);
    expect(fs.existsSync(path.join(run.plan, 'records', '000001.ndjson'))).toBe(false);
    expect((await planCli(['--plan', run.plan, '--part', '0'])).exitCode).toBe(0);
    const finalized = await finalize(run);
    expect(finalized.stderr).toBe(`foldercopy: cannot read the plan: ${file}: ${DAMAGED}\n`);
    expect(finalized.exitCode).toBe(2);
    expect(fs.existsSync(path.join(run.plan, 'finalized.json'))).toBe(false);
  });
});
