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
 */
export type RawPath = string;

const ESCAPED_NEWLINE = '\uE00A';
const ESCAPED_RETURN = '\uE00D';
const LINE_BREAK = /[\n\r]/g;

export function rawFromBytes(bytes: Buffer): RawPath {
  return rawFromLatin1(bytes.toString('latin1'));
}

/** A name read with the latin1 encoding already has one character per byte. */
export function rawFromLatin1(name: string): RawPath {
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

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * For messages: UTF-8 where valid, control characters (C0, DEL, C1) escaped, so one
 * error stays one line and a name cannot move the terminal's cursor.
 */
export function displayPath(raw: RawPath): string {
  const text = bytesFromRaw(raw).toString('utf8');
  return text.replace(CONTROL_CHARACTERS, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
