/**
 * --exclude-from and --files-from, as rsync reads them: one pattern or path per
 * line (a CR before the LF is dropped), or NUL-separated with --from0; `-` is stdin.
 * In an exclude list, blank lines and lines starting with `#` are ignored; in a
 * file list only empty lines are, and a path keeps its exact bytes (lossless text).
 */
import fs from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { FoldercopyError, pathFromBytes } from '../index.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/** The list's bytes; `-` is stdin, which only one list may read. */
export function readList(option: '--exclude-from' | '--files-from', file: string): Buffer {
  try {
    return fs.readFileSync(file === '-' ? 0 : file);
  } catch (error) {
    const shown = file === '-' ? 'stdin' : file;
    const { code, message } = systemError(error);
    throw new FoldercopyError('USAGE', `cannot read the ${option} list: ${shown}: ${message} (${code})`, shown, { cause: error });
  }
}

const systemErrors = getSystemErrorMap();

/** A system error's code and the system's reason, without Node's path decoration (as the library words them). */
export function systemError(error: unknown): { code: string; message: string } {
  const { code, errno, message } = (error ?? {}) as NodeJS.ErrnoException;
  const reason = typeof errno === 'number' ? systemErrors.get(errno)?.[1] : undefined;
  return { code: code ?? 'EUNKNOWN', message: reason ?? message ?? String(error) };
}

/** Lines (or NUL-separated items with from0), without their terminators; a last item need not be terminated. */
export function listItems(bytes: Buffer, from0: boolean): Buffer[] {
  const separator = from0 ? NUL : LF;
  const items: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(separator, start);
    if (end === -1) end = bytes.length;
    let item = bytes.subarray(start, end);
    if (!from0 && item.length > 0 && item[item.length - 1] === CR) item = item.subarray(0, -1);
    items.push(item);
    start = end + 1;
  }
  return items;
}

/** --exclude-from: patterns, as --exclude takes them; blank lines and `#` comments are ignored. */
export function excludePatterns(bytes: Buffer, from0: boolean): string[] {
  return listItems(bytes, from0)
    .map((item) => item.toString('utf8'))
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

/** --files-from: paths relative to the source, as lossless text; empty lines are ignored. */
export function listedPaths(bytes: Buffer, from0: boolean): string[] {
  return listItems(bytes, from0)
    .filter((item) => item.length > 0)
    .map(pathFromBytes);
}

/** Both lists from stdin cannot be told apart. */
export function checkOneStdinList(excludeFrom: readonly string[], filesFrom: string | undefined): void {
  if ([...excludeFrom, filesFrom].filter((file) => file === '-').length > 1) {
    throw new FoldercopyError('USAGE', 'only one list can be read from stdin (-)');
  }
}
