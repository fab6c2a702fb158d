/**
 * Paths inside the copier are "raw": one character per byte of the on-disk name,
 * so names that are not valid UTF-8 survive the filters, JSON over IPC and the
 * trip back to the file system byte for byte.
 *
 * Newline and carriage return are stored as private-use characters because
 * picomatch's regular expressions (the --exclude and --include globs) never
 * match them with `.` or `*`: `*.txt` would otherwise miss a file named "a\nb.txt".
 * Node's latin1 encoder keeps only the low byte of each character, so
 * `Buffer.from(raw, 'latin1')` undoes both mappings at once.
 *
 * A raw path never leaves the copier as it is: what the library, --log and --json
 * hand out is pathText() (lossless text, PEP 383's surrogateescape), and
 * pathBytes() turns that text back into the exact bytes.
 */
export type RawPath = string;

const ESCAPED_NEWLINE = '\uE00A';
const ESCAPED_RETURN = '\uE00D';
const LINE_BREAK = /[\n\r]/g;

export function rawFromBytes(bytes: Buffer): RawPath {
  return rawFromLatin1(bytes.toString('latin1'));
}

/** A name's exact bytes as lossless text (surrogateescape): the inverse of pathBytes. */
export function pathFromBytes(bytes: Buffer): string {
  return pathText(rawFromBytes(bytes));
}

/** A name read with the latin1 encoding already has one character per byte. */
export function rawFromLatin1(name: string): RawPath {
  // Called for every name listed, nearly all without a line break: two scans cost a fraction of the replace's
  // callback machinery (~0.15 against ~0.7 µs a name).
  if (name.indexOf('\n') < 0 && name.indexOf('\r') < 0) return name;
  return name.replace(LINE_BREAK, (c) => (c === '\n' ? ESCAPED_NEWLINE : ESCAPED_RETURN));
}

/** A path the user typed (Node decoded argv as UTF-8) in raw form. */
export function rawFromString(path: string): RawPath {
  return rawFromBytes(Buffer.from(path, 'utf8'));
}

export function bytesFromRaw(raw: RawPath): Buffer {
  return Buffer.from(raw, 'latin1');
}

export type FsPath = string | Buffer;

const NON_ASCII = /[^\x00-\x7f]/;

/** The path to hand to fs: an ASCII path as it is (no allocation on the per-file path), else its bytes. */
export function fsPath(raw: RawPath): FsPath {
  return NON_ASCII.test(raw) ? bytesFromRaw(raw) : raw;
}

const ESCAPED_LINE_BREAK = /[\uE00A\uE00D]/g;
const BEYOND_ASCII_AND_LINE_BREAKS = /[^\x00-\x7f\uE00A\uE00D]/;

/**
 * The path as text for everything foldercopy hands out (the library's paths, --log,
 * --json): lossless, by the "surrogateescape" convention (Python's PEP 383). Bytes
 * that are valid UTF-8 decode to their characters; each byte that is not part of
 * valid UTF-8 becomes the lone surrogate U+DC80+byte (0x80–0xFF → U+DC80–U+DCFF).
 * pathBytes() gives the exact bytes back, as Python's
 * `name.encode('utf-8', 'surrogateescape')` does. JSON.stringify writes those
 * surrogates as `\udce8` escapes, and a newline as `\n`, so JSON output stays
 * lossless too.
 */
export function pathText(raw: RawPath): string {
  // Most paths are ASCII: nothing to decode, only the line breaks to give back.
  if (!NON_ASCII.test(raw)) return raw;
  if (!BEYOND_ASCII_AND_LINE_BREAKS.test(raw)) return raw.replace(ESCAPED_LINE_BREAK, (c) => (c === ESCAPED_NEWLINE ? '\n' : '\r'));
  const bytes = bytesFromRaw(raw);
  const text = bytes.toString('utf8');
  // Valid UTF-8 (the usual case) encodes back to the same bytes; otherwise Node replaced something with U+FFFD.
  return Buffer.from(text, 'utf8').equals(bytes) ? text : decodeEscaping(bytes);
}

/** A path given out as text (pathText) back in raw form: pathText's inverse, with no Buffer for an ASCII path. */
export function rawFromText(text: string): RawPath {
  return NON_ASCII.test(text) ? rawFromBytes(pathBytes(text)) : rawFromLatin1(text);
}

/**
 * The exact bytes of a path given out as text (see pathText): characters as UTF-8,
 * each lone surrogate U+DC80–U+DCFF as the byte it stands for. Any other lone
 * surrogate stands for no byte and throws a TypeError, as Python's encoder does.
 */
export function pathBytes(text: string): Buffer {
  const stray = /[\uD800-\uDC7F\uDD00-\uDFFF]/u.exec(text);
  if (stray) {
    const code = stray[0].charCodeAt(0).toString(16).toUpperCase();
    throw new TypeError(`not a path foldercopy gave out: the lone surrogate U+${code} at index ${stray.index} stands for no byte`);
  }
  if (!/[\uDC80-\uDCFF]/u.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  // With the u flag a surrogate pair is one code point, so only lone surrogates match.
  for (const match of text.matchAll(/[\uDC80-\uDCFF]+/gu)) {
    parts.push(Buffer.from(text.slice(start, match.index), 'utf8'));
    parts.push(Buffer.from(Array.from(match[0], (c) => c.charCodeAt(0) - 0xdc00)));
    start = match.index + match[0].length;
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** Byte by byte: a well-formed UTF-8 sequence is decoded, any other byte becomes U+DC80+byte. */
function decodeEscaping(bytes: Buffer): string {
  let text = '';
  let runStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += bytes.toString('utf8', runStart, i) + String.fromCharCode(0xdc00 + bytes[i]!);
    i++;
    runStart = i;
  }
  return text + bytes.toString('utf8', runStart);
}

/** The length of the well-formed UTF-8 sequence at `i` (The Unicode Standard, table 3-7; Go's decoder too), or 0. */
export function sequenceLength(bytes: Buffer, i: number): number {
  const lead = bytes[i]!;
  if (lead < 0x80) return 1;
  const continuation = (at: number, low = 0x80, high = 0xbf): boolean => {
    const byte = bytes[i + at];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (lead >= 0xc2 && lead <= 0xdf) return continuation(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    // No overlong forms (E0 80..9F), no encoded surrogates (ED A0..BF).
    const second = lead === 0xe0 ? continuation(1, 0xa0) : lead === 0xed ? continuation(1, 0x80, 0x9f) : continuation(1);
    return second && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    // No overlong forms (F0 80..8F), nothing above U+10FFFF (F4 90..BF).
    const second = lead === 0xf0 ? continuation(1, 0x90) : lead === 0xf4 ? continuation(1, 0x80, 0x8f) : continuation(1);
    return second && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}


export function joinRaw(root: RawPath, relative: RawPath): RawPath {
  return relative === '' ? root : root.endsWith('/') ? root + relative : `${root}/${relative}`;
}

/** A name inside a directory given relative to the root, where '' is the root itself. */
export function childPath(relativeDir: RawPath, name: RawPath): RawPath {
  return relativeDir === '' ? name : `${relativeDir}/${name}`;
}

/** The directory holding a path relative to the root ('' for a top-level name); null for the root itself. */
export function parentOf(relativePath: RawPath): RawPath | null {
  if (relativePath === '') return null;
  const slash = relativePath.lastIndexOf('/');
  return slash < 0 ? '' : relativePath.slice(0, slash);
}
