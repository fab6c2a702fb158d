import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(import.meta.dirname, '../../src');

/** Every module a folder's files import (static and dynamic), as `file: specifier`. */
function importsOf(folder: string): string[] {
  const dir = path.join(SRC, folder);
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) => {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)];
      return specifiers.map((match) => `${folder}/${name}: ${match[1] ?? match[2]}`);
    });
}

describe('layers', () => {
  it('the scan sees the imports it checks', () => {
    expect(importsOf('cli')).toContain('cli/run.ts: ../index.js');
    expect(importsOf('cli')).toContain('cli/render.ts: cli-progress');
    expect(importsOf('pool')).toContain('pool/pool.ts: ../shared/protocol.js');
  });

  it('cli/ uses the library through its public API (src/index.ts) only', () => {
    const allowed = (specifier: string): boolean =>
      specifier === '../index.js' || specifier.startsWith('./') || specifier.startsWith('node:') || ['commander', 'cli-progress'].includes(specifier);
    expect(importsOf('cli').filter((line) => !allowed(line.split(': ')[1]!))).toEqual([]);
  });

  it('pool/ knows processes and messages, not the destination, the worker or our names on disk', () => {
    const forbidden = (specifier: string): boolean => /^\.\.\/(destination|worker|delete|source|run)\//.test(specifier) || specifier.includes('names-on-disk');
    expect(importsOf('pool').filter((line) => forbidden(line.split(': ')[1]!))).toEqual([]);
  });
});
