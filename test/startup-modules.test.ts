// What a small copy loads of Node's own modules: a copy of a few files forks no worker and hashes
// nothing, so it loads no crypto, and, called from the library, no child_process with the
// networking modules under it (the CLI's commander loads that one): each would add to every
// start-up (src/worker/job-result.ts, src/pool/worker-process.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, REPO_ROOT, runCommand } from './helpers/run-cli.js';
import { useTempDirs, writeTree } from './helpers/tree.js';

/** Node's built-in modules a process loaded, run as `node --require HOOK ...argv`: the hook writes them down as it exits. */
async function builtinsLoaded(root: string, argv: string[]): Promise<string[]> {
  const hook = path.join(root, 'hook.cjs');
  const list = path.join(root, 'modules.txt');
  fs.writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  const result = await runCommand([process.execPath, '--require', hook, ...argv], { timeoutMs: 20_000 });
  expect(result.exitCode, result.stderr).toBe(0);
  return fs
    .readFileSync(list, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('NativeModule '))
    .map((line) => line.slice('NativeModule '.length));
}

describe("Node's modules at start-up", () => {
  const tempDir = useTempDirs();

  async function smallSource(root: string): Promise<string> {
    const source = path.join(root, 'src');
    await writeTree(source, [
      { path: 'a.txt', type: 'file', content: 'a\n' },
      { path: 'sub/b.txt', type: 'file', content: 'b\n' },
    ]);
    return source;
  }

  it('the CLI copying a few files loads no crypto; verifying, it does', async () => {
    const root = await tempDir();
    const source = await smallSource(root);
    const plain = await builtinsLoaded(root, [CLI_PATH, source, path.join(root, 'copy')]);
    expect(plain).not.toContain('crypto');
    expect(fs.readFileSync(path.join(root, 'copy', 'sub', 'b.txt'), 'utf8')).toBe('b\n');
    const verified = await builtinsLoaded(root, [CLI_PATH, '--verify', source, path.join(root, 'verified')]);
    expect(verified).toContain('crypto');
  });

  it('copyFolder() copying a few files loads neither child_process nor crypto', async () => {
    const root = await tempDir();
    const source = await smallSource(root);
    const script = path.join(root, 'copy.mjs');
    const library = path.join(REPO_ROOT, 'dist', 'index.js');
    fs.writeFileSync(script, `import { copyFolder } from ${JSON.stringify(library)};\nawait copyFolder(${JSON.stringify(source)}, ${JSON.stringify(path.join(root, 'copy'))});\n`);
    const loaded = await builtinsLoaded(root, [script]);
    expect(loaded).not.toContain('child_process');
    expect(loaded).not.toContain('crypto');
    expect(fs.readFileSync(path.join(root, 'copy', 'a.txt'), 'utf8')).toBe('a\n');
  });
});
