import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FoldercopyError } from '../../src/shared/errors.js';
import { rawFromBytes, rawFromString } from '../../src/shared/raw-path.js';
import { InvalidArgumentError } from 'commander';
import { parseShardArgument } from '../../src/cli/arguments.js';
import { checkShard } from '../../src/source/shard-option.js';
import { shardKey, shardOf } from '../../src/source/shard.js';

/** rclone's rule written out once more, on the bytes Go would hash: the first 8 bytes of the MD5, little-endian, mod N. */
function rcloneShard(goLowered: Buffer | string, count: number): number {
  return Number(createHash('md5').update(goLowered).digest().readBigUInt64LE(0) % BigInt(count));
}

const keyText = (path: string): string => Buffer.from(shardKey(rawFromString(path))).toString('utf8');

describe('shardOf: rclone --hash-filter', () => {
  // rclone's own vectors: fs/filter/filter_test.go, TestNewFilterHashFilter (N = 4), and docs/content/filtering.md.
  const e1 = 'file\u03011.jpg'; // e + combining acute accent
  const e2 = 'fil\u00e91.jpg'; // precomposed é
  const vectors: Array<[string, number]> = [
    ['file1.jpg', 0],
    ['FILE1.jpg', 0],
    ['file2.jpg', 2],
    ['File2.jpg', 2],
    ['file3.jpg', 1],
    ['file4.jpg', 2],
    ['file5.jpg', 0],
    ['file6.jpg', 1],
    ['file7.jpg', 3],
    ['file8.jpg', 3],
    ['file9.jpg', 1],
    [e1, 3],
    [e2, 3],
    [`hello${e1}`, 2],
    [`HELLO${e2}`, 2],
    [`hello1${e1}`, 1],
    [`Hello1${e2}`, 1],
  ];
  it.each(vectors)('puts %j in shard %i of 4, as rclone does', (name, shard) => {
    expect(shardOf(rawFromString(name), 4)).toBe(shard);
  });

  it('hashes the whole relative path, "/"-separated', () => {
    expect(keyText('Dir/Sub/FILE1.JPG')).toBe('dir/sub/file1.jpg');
    expect(shardOf('Dir/Sub/FILE1.JPG', 1000)).toBe(rcloneShard('dir/sub/file1.jpg', 1000));
  });

  it('reads the digest as an unsigned 64-bit little-endian number, for any N up to 2^53 - 1', () => {
    // md5("file1.jpg") starts 04 91 ff 50 ef fb ec 37: 0x37ecfbef50ff9104 (md5sum agrees).
    expect(createHash('md5').update('file1.jpg').digest('hex').slice(0, 16)).toBe('0491ff50effbec37');
    const value = 0x37ecfbef50ff9104n;
    for (const count of [1, 2, 3, 7, 1000, 2 ** 32 + 15, Number.MAX_SAFE_INTEGER]) {
      expect(shardOf('file1.jpg', count)).toBe(Number(value % BigInt(count)));
    }
  });

  // Pinned where JavaScript's toLowerCase and Go's strings.ToLower differ: foldercopy follows Go.
  it("lower-cases 'İ' (U+0130) to 'i', as Go does, not to JavaScript's 'i' + U+0307", () => {
    expect(keyText('\u0130STANBUL.txt')).toBe('istanbul.txt');
    expect('\u0130'.toLowerCase()).toBe('i\u0307');
    expect(shardOf(rawFromString('\u0130STANBUL.txt'), 1000)).toBe(rcloneShard('istanbul.txt', 1000));
    expect(shardOf(rawFromString('\u0130STANBUL.txt'), 1000)).toBe(427);
    expect(rcloneShard('i\u0307stanbul.txt', 1000)).not.toBe(427);
  });

  it("lower-cases a word-final 'Σ' to 'σ', as Go does, not to JavaScript's final 'ς'", () => {
    expect(keyText('ΟΔΟΣ/ΚΟΣΜΟΣ.txt')).toBe('οδοσ/κοσμοσ.txt');
    expect('ΚΟΣΜΟΣ'.toLowerCase()).toBe('κοσμος');
    expect(shardOf(rawFromString('ΟΔΟΣ/ΚΟΣΜΟΣ.txt'), 1000)).toBe(rcloneShard('οδοσ/κοσμοσ.txt', 1000));
    expect(shardOf(rawFromString('ΟΔΟΣ/ΚΟΣΜΟΣ.txt'), 1000)).toBe(52);
    expect(rcloneShard('οδος/κοσμος.txt', 1000)).not.toBe(52);
  });

  it('normalises to NFC before lower-casing', () => {
    expect(keyText('CAF\u0045\u0301')).toBe('caf\u00e9');
  });

  it('hashes each byte that is not valid UTF-8 as U+FFFD, as Go strings.ToLower replaces it', () => {
    const lone = rawFromBytes(Buffer.from([0x41, 0xff, 0x42]));
    expect(shardKey(lone)).toEqual(Buffer.from('a\ufffdb', 'utf8'));
    // A truncated sequence is one U+FFFD per byte in Go (width 1 each), not one for the whole as TextDecoder would.
    const truncated = rawFromBytes(Buffer.from([0x41, 0xe2, 0x82, 0x42]));
    expect(shardKey(truncated)).toEqual(Buffer.from('a\ufffd\ufffdb', 'utf8'));
    // An encoded surrogate is invalid in Go too: three bytes, three U+FFFD.
    expect(shardKey(rawFromBytes(Buffer.from([0xed, 0xa0, 0x80])))).toEqual(Buffer.from('\ufffd\ufffd\ufffd', 'utf8'));
    expect(shardOf(lone, 1000)).toBe(rcloneShard('a\ufffdb', 1000));
  });

  it("hashes control characters as rclone's standard names show them: their symbols, and a symbol already there quoted", () => {
    expect(shardKey(rawFromBytes(Buffer.from('A\nB\tC\x7fD')))).toEqual(Buffer.from('a\u240ab\u2409c\u2421d'));
    expect(keyText('\u2401\u2421.txt')).toBe('\u201b\u2401\u201b\u2421.txt');
    // rclone's own vector for encoder.EncodeCtl (lib/encoder/encoder_cases_test.go), which Standard includes; lower-cased.
    const input = '␊\n␅␚ρ␉␄␈\x1f\\\x1bζ\x19␏ｔ␘\x07φ\f\x11\x05␃－␒␁␙␟␔ξ#␄ＸN␜\b\r\x14\x04␋\x10＜␑2!\x18\x1c\t␆\x06␞{␍␐␎5␝\x12ｃ\x1a\x03␗\x0e␛\b\x15\x1eX␛␐␌\x01\x1d\x17\x02\x1d8？\x13␖␂\x18\v␕＾␙\x0fα␕␇;μ␓\x16';
    const encoded = '‛␊␊‛␅‛␚ρ‛␉‛␄‛␈␟\\␛ζ␙‛␏ｔ‛␘␇φ␌␑␅‛␃－‛␒‛␁‛␙‛␟‛␔ξ#‛␄ＸN‛␜␈␍␔␄‛␋␐＜‛␑2!␘␜␉‛␆␆‛␞{‛␍‛␐‛␎5‛␝␒ｃ␚␃‛␗␎‛␛␈␕␞X‛␛‛␐‛␌␁␝␗␂␝8？␓‛␖‛␂␘␋‛␕＾‛␙␏α‛␕‛␇;μ‛␓␖';
    expect(keyText(input)).toBe(encoded.toLowerCase());
    expect(shardOf(rawFromString(input), 1000)).toBe(rcloneShard(encoded.toLowerCase(), 1000));
  });

  it('splits a tree into disjoint shards that cover it', () => {
    const names = Array.from({ length: 300 }, (_, i) => `dir${i % 7}/File ${i}.bin`);
    const shards = names.map((name) => shardOf(name, 3));
    expect(new Set(shards)).toEqual(new Set([0, 1, 2]));
    for (const [i, name] of names.entries()) expect(shards[i]).toBe(rcloneShard(name.toLowerCase(), 3));
  });
});

describe('shard values', () => {
  it('parses K/N with 0 <= K < N', () => {
    expect(parseShardArgument('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShardArgument('2/8')).toEqual({ index: 2, count: 8 });
    for (const bad of ['3/3', '0/0', 'a/b', '-1/2', '1/-2', '1', '', '1/2/3', ' 1/2', '1.5/2', '0/99999999999999999999', '99999999999999999999/1']) {
      expect(() => parseShardArgument(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it('checks the library option', () => {
    expect(checkShard({ index: 1, count: 3 })).toEqual({ index: 1, count: 3 });
    for (const bad of [{ index: 3, count: 3 }, { index: 0, count: 0 }, { index: -1, count: 2 }, { index: 0.5, count: 2 }, { index: '1', count: 2 }, '1/2', null, 5]) {
      expect(() => checkShard(bad)).toThrow(FoldercopyError);
    }
    expect(() => checkShard({ index: 3, count: 3 })).toThrow('the shard option must be { index, count }, whole numbers with 0 <= index < count, got { index: 3, count: 3 }');
  });
});
