import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyDenseInKernel } from '../../src/worker/block-copy.js';
import { useTempDirs } from '../helpers/tree.js';

const tempDir = useTempDirs();
const BUFFER = Buffer.allocUnsafe(256 * 1024);

/** Copies `content` written at `from` with the kernel loop, told the file has `statSize` bytes. */
async function copied(content: Buffer, statSize: number): Promise<{ count: number; bytes: Buffer }> {
  const root = await tempDir();
  const from = path.join(root, 'from');
  const to = path.join(root, 'to');
  fs.writeFileSync(from, content);
  const input = fs.openSync(from, 'r');
  const output = fs.openSync(to, 'wx');
  try {
    return { count: copyDenseInKernel(input, output, BUFFER, statSize), bytes: fs.readFileSync(to) };
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
}

describe('copyDenseInKernel: the block loop\'s counts, by copy_file_range', () => {
  const content = Buffer.alloc(600 * 1024);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7) & 0xff;

  it('copies every byte of a file of several chunks and counts them', async () => {
    const { count, bytes } = await copied(content, content.length);
    expect(count).toBe(content.length);
    expect(bytes.equals(content)).toBe(true);
  });

  it('a file that grew since its stat is copied to its end: the count says so', async () => {
    expect((await copied(content, 100 * 1024)).count).toBe(content.length);
  });

  it('a file that shrank since its stat ends where it ends: the count says so', async () => {
    const { count, bytes } = await copied(content.subarray(0, 1000), content.length);
    expect(count).toBe(1000);
    expect(bytes.equals(content.subarray(0, 1000))).toBe(true);
  });

  it('an empty file copies nothing', async () => {
    expect((await copied(Buffer.alloc(0), 0)).count).toBe(0);
  });
});
