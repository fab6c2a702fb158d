import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FoldercopyError, errorRecord, refusal } from '../../src/shared/errors.js';
import {
  bytesFromRaw,
  childPath,
  fsPath,
  joinRaw,
  parentOf,
  pathBytes,
  pathText,
  rawFromBytes,
  rawFromLatin1,
  rawFromString,
  rawFromText,
} from '../../src/shared/raw-path.js';

describe('raw paths', () => {
  it('reads a path given out as text back to the same raw path (rawFromText is pathText undone)', () => {
    const names = [Buffer.from('dir/plain.txt'), Buffer.from('a\nb\rc'), Buffer.from('é/ü'), Buffer.from([0x66, 0xff, 0x0a, 0xc3]), Buffer.from('\uE00A', 'utf8')];
    for (const bytes of names) {
      const raw = rawFromBytes(bytes);
      expect(rawFromText(pathText(raw))).toBe(raw);
      expect(bytesFromRaw(rawFromText(pathText(raw)))).toEqual(bytes);
    }
    expect(() => rawFromText('x\uD800')).toThrow(TypeError);
  });

  it('keeps an ASCII path unchanged', () => {
    expect(rawFromString('dir/file-1.txt')).toBe('dir/file-1.txt');
    expect(bytesFromRaw('dir/file-1.txt')).toEqual(Buffer.from('dir/file-1.txt'));
  });

  it('holds one character per byte of a UTF-8 name', () => {
    const raw = rawFromString('é');
    expect(raw).toBe('\u00c3\u00a9');
    expect(bytesFromRaw(raw)).toEqual(Buffer.from([0xc3, 0xa9]));
  });

  it('round-trips bytes that are not valid UTF-8', () => {
    const bytes = Buffer.from([0x66, 0xff, 0xfe, 0x80, 0x2f, 0xc3]);
    const raw = rawFromBytes(bytes);
    expect(raw).toBe('f\u00ff\u00fe\u0080/\u00c3');
    expect(bytesFromRaw(raw)).toEqual(bytes);
  });

  it('stores newline and carriage return as private-use characters and gives them back as bytes', () => {
    const raw = rawFromString('a\nb\rc');
    expect(raw).toBe('a\uE00Ab\uE00Dc');
    expect(raw).not.toMatch(/[\n\r]/);
    expect(bytesFromRaw(raw)).toEqual(Buffer.from('a\nb\rc'));
    expect(rawFromLatin1('x\n')).toBe('x\uE00A');
  });

  it('round-trips a name with a newline, a return and invalid bytes together', () => {
    const bytes = Buffer.from([0x0a, 0xff, 0x0d, 0x0d, 0x61]);
    expect(bytesFromRaw(rawFromBytes(bytes))).toEqual(bytes);
  });

  it('hands fs an ASCII path as it is, and any other as its bytes', () => {
    expect(fsPath('plain/name')).toBe('plain/name');
    const other = fsPath(rawFromString('naïve'));
    expect(Buffer.isBuffer(other)).toBe(true);
    expect(other).toEqual(Buffer.from('naïve'));
    expect(fsPath(rawFromString('a\nb'))).toEqual(Buffer.from('a\nb'));
  });

  it('gives valid UTF-8 out as its text, newlines and returns as themselves', () => {
    expect(pathText(rawFromString('dir/file.txt'))).toBe('dir/file.txt');
    expect(pathText(rawFromString('dir/café/日本/\u{1F600}'))).toBe('dir/café/日本/\u{1F600}');
    expect(pathText(rawFromString('a\nb\rc'))).toBe('a\nb\rc');
    expect(pathText(rawFromString('é\n'))).toBe('é\n');
    // A real U+FFFD in a name is a character like any other, not a lost byte.
    expect(pathText(rawFromString('x\ufffd'))).toBe('x\ufffd');
  });

  // Expected values from Python: bytes.decode('utf-8', 'surrogateescape').
  it.each([
    [[0x63, 0x61, 0x66, 0xe8], 'caf\udce8'],
    [[0x63, 0x61, 0x66, 0xe9], 'caf\udce9'],
    [[0x63, 0x61, 0x66, 0xc3, 0xa9], 'caf\u00e9'],
    [[0xff, 0xfe], '\udcff\udcfe'],
    [[0x80], '\udc80'],
    [[0xe2, 0x82, 0x41], '\udce2\udc82A'],
    [[0xed, 0xa0, 0x80], '\udced\udca0\udc80'],
    [[0xed, 0x9f, 0xbf], '\ud7ff'],
    [[0xc0, 0xaf], '\udcc0\udcaf'],
    [[0xe0, 0x80, 0xaf], '\udce0\udc80\udcaf'],
    [[0xf0, 0x9f, 0x98, 0x80], '\u{1F600}'],
    [[0xf0, 0x9f, 0x98], '\udcf0\udc9f\udc98'],
    [[0xf4, 0x90, 0x80, 0x80], '\udcf4\udc90\udc80\udc80'],
    [[0xf5], '\udcf5'],
    [[0xed, 0xb3, 0xa8], '\udced\udcb3\udca8'],
    [[0x0a, 0xff, 0x0d, 0xc3, 0xa9, 0xe9], '\n\udcff\r\u00e9\udce9'],
  ])('decodes %j as Python\'s surrogateescape does, and pathBytes gives the bytes back', (bytes, text) => {
    expect(pathText(rawFromBytes(Buffer.from(bytes)))).toBe(text);
    expect(pathBytes(text)).toEqual(Buffer.from(bytes));
  });

  it('keeps two names apart that lossy decoding would merge', () => {
    const names = [[0x63, 0x61, 0x66, 0xe8], [0x63, 0x61, 0x66, 0xe9], [0x61, 0x0a, 0x62], [0x61, 0x5c, 0x6e, 0x62]].map((b) => Buffer.from(b));
    const texts = names.map((bytes) => pathText(rawFromBytes(bytes)));
    expect(new Set(texts).size).toBe(4);
    expect(new Set(texts.map((text) => JSON.stringify(text))).size).toBe(4);
    for (const [i, text] of texts.entries()) expect(pathBytes(JSON.parse(JSON.stringify(text)) as string)).toEqual(names[i]);
  });

  it('round-trips every byte value, alone and after a lead byte', () => {
    for (let byte = 0; byte < 256; byte++) {
      for (const bytes of [Buffer.from([byte]), Buffer.from([0xc3, byte]), Buffer.from([0xe2, 0x82, byte]), Buffer.from([0xf0, 0x9f, 0x98, byte])]) {
        expect(pathBytes(pathText(rawFromBytes(bytes)))).toEqual(bytes);
      }
    }
  });

  it('refuses a lone surrogate that stands for no byte', () => {
    expect(() => pathBytes('a\ud800')).toThrow(TypeError);
    expect(() => pathBytes('\udc41')).toThrow(/U\+DC41/);
    expect(pathBytes('\u{1F600}\udcff')).toEqual(Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0xff]));
  });

  it('joins a relative path to a root, the root itself for ""', () => {
    expect(joinRaw('/dst', 'a/b')).toBe('/dst/a/b');
    expect(joinRaw('/dst/', 'a')).toBe('/dst/a');
    expect(joinRaw('/', 'a')).toBe('/a');
    expect(joinRaw('/dst', '')).toBe('/dst');
  });

  it('names a child relative to the root', () => {
    expect(childPath('', 'top')).toBe('top');
    expect(childPath('a', 'b')).toBe('a/b');
    expect(childPath('a/b', 'c')).toBe('a/b/c');
  });

  it('gives the parent of a relative path: "" for a top-level name, null for the root', () => {
    expect(parentOf('a/b/c')).toBe('a/b');
    expect(parentOf('a/b')).toBe('a');
    expect(parentOf('top')).toBe('');
    expect(parentOf('')).toBeNull();
  });
});

describe('errorRecord', () => {
  it('turns a real fs error into the system’s code and reason, with the operation and path given', () => {
    const missing = path.join(os.tmpdir(), `foldercopy-unit-missing-${process.pid}-${Date.now()}`, 'nothing');
    let thrown: unknown;
    try {
      fs.statSync(missing);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(errorRecord(thrown, 'stat', 'some/raw/path')).toEqual({
      code: 'ENOENT',
      message: 'no such file or directory',
      operation: 'stat',
      path: 'some/raw/path',
    });
  });

  it('keeps the code and message of an error without an errno', () => {
    const error = Object.assign(new Error('content differs'), { code: 'EVERIFY' });
    expect(errorRecord(error, 'verify', 'f')).toEqual({ code: 'EVERIFY', message: 'content differs', operation: 'verify', path: 'f' });
  });

  it('gives a record with code EUNKNOWN for an error that is not a system error, or not an error at all', () => {
    expect(errorRecord(new Error('bad'), 'write', 'p')).toEqual({ code: 'EUNKNOWN', message: 'bad', operation: 'write', path: 'p' });
    expect(errorRecord('boom', 'read', 'q')).toEqual({ code: 'EUNKNOWN', message: 'boom', operation: 'read', path: 'q' });
    expect(errorRecord(undefined, 'list', 'r')).toEqual({ code: 'EUNKNOWN', message: 'undefined', operation: 'list', path: 'r' });
  });

  it('makes a refusal with the system’s reason and code in one line', () => {
    const error = Object.assign(new Error("ENOENT: no such file or directory, stat '/x'"), { code: 'ENOENT', errno: -2 });
    const refused = refusal('SOURCE_MISSING', 'cannot read the source', '/x', error);
    expect(refused).toBeInstanceOf(FoldercopyError);
    expect(refused.code).toBe('SOURCE_MISSING');
    expect(refused.path).toBe('/x');
    expect(refused.message).toBe('cannot read the source: /x: no such file or directory (ENOENT)');
    expect(refused.cause).toBe(error);
  });
});
