import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, constants as fsConstants, createReadStream, ftruncateSync, mkdirSync, openSync, readSync, statSync, utimesSync, writeFileSync, writeSync, type BigIntStats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import { endsLikeOurName } from '../../src/shared/names-on-disk.js';

// ---------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------

/** A fresh, empty directory (mode 0700) under os.tmpdir(). The caller removes it. */
export async function makeTempDir(prefix = 'foldercopy-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Removes a directory tree, even one a test made unreadable or unwritable. */
export async function removeTempDir(dir: string): Promise<void> {
  try {
    // chmod -R does not follow symlinks met during the walk, so it cannot touch files outside `dir`.
    execFileSync('chmod', ['-R', 'u+rwx', '--', dir], { stdio: 'ignore' });
  } catch {
    // Entries chmod could not fix make fs.rm fail below with a clearer message.
  }
  await fs.rm(dir, { recursive: true, force: true });
}

/**
 * Call in a describe block (or at the top of a test file): returns a maker of temp dirs that are
 * removed after each test of that scope. Dirs that must outlive one test (beforeAll) need
 * makeTempDir + removeTempDir in afterAll instead.
 */
export function useTempDirs(): (prefix?: string) => Promise<string> {
  const created: string[] = [];
  afterEach(async () => {
    await Promise.all(created.splice(0).map(removeTempDir));
  });
  return async (prefix?: string): Promise<string> => {
    const dir = await makeTempDir(prefix);
    created.push(dir);
    return dir;
  };
}

// ---------------------------------------------------------------------------
// Raw paths
// ---------------------------------------------------------------------------

/** A path relative to a tree root: a string (stored as UTF-8) or raw bytes for names that are not UTF-8. */
export type RawPath = string | Buffer;

const SLASH = 0x2f;

function toBytes(p: RawPath): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

function joinRaw(base: Buffer, rel: Buffer): Buffer {
  return rel.length === 0 ? base : Buffer.concat([base, Buffer.from('/'), rel]);
}

function parentOf(p: Buffer): Buffer {
  const slash = p.lastIndexOf(SLASH);
  return slash <= 0 ? Buffer.from(slash === 0 ? '/' : '.') : p.subarray(0, slash);
}

function depthOf(rel: Buffer): number {
  return rel.filter((byte) => byte === SLASH).length;
}

/** The key of an entry in TreeSnapshot.entries: latin1 maps each byte to one char, so no name is lost or merged. */
export function entryKey(rel: RawPath): string {
  return toBytes(rel).toString('latin1');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function escapeByte(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

function escapeChar(char: string, escapeNonAscii: boolean): string {
  const code = char.codePointAt(0) ?? 0;
  if (char === '\\') return '\\\\';
  if (char === '\n') return '\\n';
  if (char === '\t') return '\\t';
  if (code < 0x20 || code === 0x7f) return escapeByte(code);
  if (escapeNonAscii && code > 0x7e) return `\\u{${code.toString(16)}}`;
  return char;
}

/**
 * A readable, unambiguous form of a raw relative path for messages: control characters and
 * non-UTF-8 bytes are escaped, and a name that is not in NFC shows its code points, so
 * NFC "é" (`café`) and NFD "é" (`cafe\u{301}`) do not look the same.
 */
function printablePath(rel: RawPath): string {
  const raw = toBytes(rel);
  if (raw.length === 0) return '.';
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    return [...raw]
      .map((byte) => (byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : escapeByte(byte)))
      .join('');
  }
  const escapeNonAscii = text.normalize('NFC') !== text;
  return [...text].map((char) => escapeChar(char, escapeNonAscii)).join('');
}

// ---------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------

/** Nanoseconds since the epoch (exact), or seconds with a fraction (a double: ~240 ns resolution today). */
type Timestamp = bigint | number;

const NS_PER_SECOND = 1_000_000_000n;

function toNanoseconds(time: Timestamp): bigint {
  if (typeof time === 'bigint') return time;
  const whole = Math.floor(time);
  return BigInt(whole) * NS_PER_SECOND + BigInt(Math.round((time - whole) * 1e9));
}

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n ? quotient - 1n : quotient;
}

/** "1700000000.999999999" */
function formatNanoseconds(ns: bigint): string {
  const seconds = floorDiv(ns, NS_PER_SECOND);
  const fraction = ns - seconds * NS_PER_SECOND;
  return `${seconds}.${fraction.toString().padStart(9, '0')}`;
}

// ---------------------------------------------------------------------------
// Tree specs
// ---------------------------------------------------------------------------

interface Metadata {
  /** Permission bits, applied with chmod so the umask does not interfere. */
  mode?: number;
  mtime?: Timestamp;
  atime?: Timestamp;
}

interface FileSpec extends Metadata {
  type: 'file';
  content?: string | Buffer;
}

interface DirSpec extends Metadata {
  type: 'dir';
}

interface SymlinkSpec {
  type: 'symlink';
  /** Stored as is: relative, absolute or dangling. */
  target: RawPath;
}

interface HardLinkSpec {
  type: 'hardlink';
  /** Relative path of a non-hardlink entry of the same spec, or of a hardlink listed earlier. */
  target: RawPath;
}

interface FifoSpec extends Metadata {
  type: 'fifo';
}

interface DataRange {
  offset: number;
  data: string | Buffer;
}

interface SparseFileSpec extends Metadata {
  type: 'sparse';
  size: number;
  /** Everything outside these ranges is a hole. */
  data: readonly DataRange[];
}

type EntrySpec = FileSpec | DirSpec | SymlinkSpec | HardLinkSpec | FifoSpec | SparseFileSpec;

export type TreeEntry = EntrySpec & { path: RawPath };

/**
 * Either a list of entries (needed for names given as raw bytes) or an object keyed by relative
 * path whose string/Buffer values are file contents. Missing parent directories are created.
 */
export type TreeSpec = readonly TreeEntry[] | Readonly<Record<string, EntrySpec | string | Buffer>>;

function toEntries(spec: TreeSpec): TreeEntry[] {
  if (Array.isArray(spec)) return [...(spec as readonly TreeEntry[])];
  return Object.entries(spec as Readonly<Record<string, EntrySpec | string | Buffer>>).map(([rel, value]) =>
    typeof value === 'string' || Buffer.isBuffer(value)
      ? { path: rel, type: 'file', content: value }
      : { ...value, path: rel },
  );
}

/** Creates `spec` under `root` (which must exist). */
export async function writeTree(root: string, spec: TreeSpec): Promise<void> {
  const rootBytes = Buffer.from(root);
  const entries = toEntries(spec);
  for (const entry of entries) {
    if (entry.type !== 'hardlink') await createEntry(rootBytes, entry);
  }
  for (const entry of entries) {
    if (entry.type !== 'hardlink') continue;
    const linkPath = joinRaw(rootBytes, toBytes(entry.path));
    await fs.mkdir(parentOf(linkPath), { recursive: true });
    await fs.link(joinRaw(rootBytes, toBytes(entry.target)), linkPath);
  }
  // Creating an entry changes its parent's mtime, and a read-only or unsearchable directory would
  // stop us creating entries in it: so directory metadata comes last, deepest first.
  const dirs = entries
    .filter((entry): entry is DirSpec & { path: RawPath } => entry.type === 'dir')
    .sort((a, b) => depthOf(toBytes(b.path)) - depthOf(toBytes(a.path)));
  for (const dir of dirs) await applyMetadata(joinRaw(rootBytes, toBytes(dir.path)), dir);
}

async function createEntry(root: Buffer, entry: Exclude<TreeEntry, HardLinkSpec>): Promise<void> {
  const target = joinRaw(root, toBytes(entry.path));
  if (entry.type === 'dir') {
    await fs.mkdir(target, { recursive: true });
    return;
  }
  await fs.mkdir(parentOf(target), { recursive: true });
  switch (entry.type) {
    case 'file':
      await fs.writeFile(target, entry.content ?? '');
      break;
    case 'sparse':
      await writeSparseFile(target, entry);
      break;
    case 'symlink':
      await fs.symlink(toBytes(entry.target), target);
      return;
    case 'fifo':
      await makeFifo(root, target);
      break;
  }
  await applyMetadata(target, entry);
}

async function writeSparseFile(target: Buffer, spec: SparseFileSpec): Promise<void> {
  const handle = await fs.open(target, 'w');
  try {
    await handle.truncate(spec.size);
    for (const range of spec.data) {
      const bytes = toBytes(range.data);
      await handle.write(bytes, 0, bytes.length, range.offset);
    }
  } finally {
    await handle.close();
  }
}

/** Node cannot make FIFOs and mkfifo takes only string arguments, so the raw name comes from a rename. */
async function makeFifo(root: Buffer, target: Buffer): Promise<void> {
  const scratch = path.join(root.toString(), `.mkfifo-${randomUUID()}`);
  execFileSync('mkfifo', ['--', scratch]);
  await fs.rename(scratch, target);
}

async function applyMetadata(target: Buffer, metadata: Metadata): Promise<void> {
  if (metadata.mtime !== undefined || metadata.atime !== undefined) await setExactTimes(target, metadata);
  if (metadata.mode !== undefined) await fs.chmod(target, metadata.mode);
}

/**
 * fs.utimes takes seconds as a double, which cannot hold nanoseconds (1700000000.999999999 becomes
 * 1700000001), so GNU touch sets the times: `touch -` changes the file open on its stdout, which also
 * works for names that are not UTF-8. O_NONBLOCK keeps the open of a FIFO from waiting for a writer.
 */
async function setExactTimes(target: Buffer, times: Pick<Metadata, 'mtime' | 'atime'>): Promise<void> {
  const handle = await fs.open(target, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const changes: [string, Timestamp | undefined][] = [
      ['-m', times.mtime],
      ['-a', times.atime],
    ];
    for (const [which, time] of changes) {
      if (time === undefined) continue;
      execFileSync('touch', [which, '-d', `@${formatNanoseconds(toNanoseconds(time))}`, '-'], {
        stdio: ['ignore', handle.fd, 'pipe'],
      });
    }
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------
// A tree with everything a copier gets wrong
// ---------------------------------------------------------------------------

const MiB = 1024 * 1024;

/** The mtime whose fraction a double cannot hold: a copier using fs.utimes(number) moves it into the next second. */
export const EDGE_MTIME_NS = 1_700_000_000_999_999_999n;

export const NFC_E = '\u00e9';
export const NFD_E = 'e\u0301';

/** A name with bytes 0xff 0xfe: not valid UTF-8. */
export const NON_UTF8_NAME = Buffer.concat([Buffer.from('bytes-'), Buffer.from([0xff, 0xfe]), Buffer.from('.bin')]);

export function oddNamesTree(): TreeEntry[] {
  return [
    { path: 'with space.txt', type: 'file', content: 'space\n' },
    { path: 'with\ttab.txt', type: 'file', content: 'tab\n' },
    { path: 'with\nnewline.txt', type: 'file', content: 'newline\n' },
    { path: `accents/caf${NFC_E}.txt`, type: 'file', content: 'NFC\n' },
    { path: `accents/caf${NFD_E}.txt`, type: 'file', content: 'NFD\n' },
    { path: '-leading-dash.txt', type: 'file', content: 'dash\n' },
    { path: 'glob*?[]{}.txt', type: 'file', content: 'glob\n' },
    { path: `quotes'"both.txt`, type: 'file', content: 'quotes\n' },
    { path: 'back\\slash.txt', type: 'file', content: 'backslash\n' },
    { path: NON_UTF8_NAME, type: 'file', content: 'not UTF-8\n' },
    { path: '.hidden', type: 'file', content: 'dotfile\n' },
    { path: '.dotdir/inside.txt', type: 'file', content: 'in a dot-directory\n' },
    { path: 'empty-dir', type: 'dir' },
    { path: 'nested/a/b/c/deep.txt', type: 'file', content: 'deep\n' },
    { path: 'links/relative', type: 'symlink', target: '../with space.txt' },
    { path: 'links/dangling', type: 'symlink', target: 'does-not-exist' },
    { path: 'links/absolute', type: 'symlink', target: '/etc/passwd' },
    { path: 'links/to-dir', type: 'symlink', target: '../nested' },
    { path: 'links/loop-a', type: 'symlink', target: 'loop-b' },
    { path: 'links/loop-b', type: 'symlink', target: 'loop-a' },
    { path: 'hardlinks/first.txt', type: 'file', content: 'one inode, two names\n' },
    { path: 'hardlinks/second.txt', type: 'hardlink', target: 'hardlinks/first.txt' },
    { path: 'modes/private-600.txt', type: 'file', content: 'private\n', mode: 0o600 },
    { path: 'modes/exec-755.sh', type: 'file', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { path: 'modes/readonly-444.txt', type: 'file', content: 'read-only\n', mode: 0o444 },
    { path: 'modes/dir-750', type: 'dir', mode: 0o750 },
    { path: 'modes/dir-750/inside.txt', type: 'file', content: 'inside 750\n' },
    { path: 'times/half-second.txt', type: 'file', content: 'half\n', mtime: 1_600_000_000_500_000_000n },
    { path: 'times/edge.txt', type: 'file', content: 'edge\n', mtime: EDGE_MTIME_NS },
    {
      path: 'times/nanos.txt',
      type: 'file',
      content: 'nanos\n',
      mtime: 1_650_000_000_123_456_789n,
      atime: 1_650_000_100_987_654_321n,
    },
    { path: 'times/dir', type: 'dir', mtime: 1_500_000_000_250_000_000n },
    { path: 'times/dir/inside.txt', type: 'file', content: 'in a dir with an old mtime\n' },
    {
      path: 'sparse.bin',
      type: 'sparse',
      size: 8 * MiB,
      data: [
        { offset: 0, data: Buffer.alloc(4096, 'head') },
        { offset: 8 * MiB - 4096, data: Buffer.alloc(4096, 'tail') },
      ],
    },
    { path: 'empty.txt', type: 'file', content: '' },
    { path: 'random.bin', type: 'file', content: randomBytes(2 * MiB) },
  ];
}

// ---------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------

type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'other';

export interface EntrySnapshot {
  rawPath: Buffer;
  /** printablePath(rawPath); "." for the root. */
  path: string;
  type: EntryType;
  /** mode & 0o7777 */
  mode: number;
  size: number;
  /** Files only. */
  sha256: string | null;
  /** Symlinks only. */
  linkTarget: Buffer | null;
  mtimeNs: bigint;
  /** Only when snapshotTree was asked for atimes; diffTrees compares them for non-directories only. */
  atimeNs: bigint | null;
  uid: number;
  gid: number;
  /** The path of the first (in byte order) of the entries of this tree that share this inode; null if none does. */
  hardLinkGroup: string | null;
  /** Files only, when snapshotTree was asked: fewer blocks allocated than the size needs. */
  sparse: boolean | null;
}

export interface TreeSnapshot {
  root: string;
  /** By entryKey(relative path), in byte order of the paths; the root itself is under "". */
  entries: ReadonlyMap<string, EntrySnapshot>;
}

export interface SnapshotOptions {
  atime?: boolean;
  sparse?: boolean;
}

interface WalkedEntry {
  rel: Buffer;
  stats: BigIntStats;
}

/** Every entry under root, root itself first ("" path), never following symlinks; sorted by raw bytes. */
async function walkTree(root: string): Promise<WalkedEntry[]> {
  const rootBytes = Buffer.from(root);
  const found: WalkedEntry[] = [];
  const visit = async (rel: Buffer): Promise<void> => {
    const full = joinRaw(rootBytes, rel);
    const stats = await fs.lstat(full, { bigint: true });
    found.push({ rel, stats });
    if (!stats.isDirectory()) return;
    for (const name of await fs.readdir(full, { encoding: 'buffer' })) {
      await visit(rel.length === 0 ? name : joinRaw(rel, name));
    }
  };
  await visit(Buffer.alloc(0));
  return found.sort((a, b) => Buffer.compare(a.rel, b.rel));
}

function typeOf(stats: BigIntStats): EntryType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  return 'other';
}

async function sha256Of(file: Buffer): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Labels by inode rather than inode numbers, so a source and its copy compare equal. */
function hardLinkGroups(walked: readonly WalkedEntry[]): Map<Buffer, string> {
  const byInode = new Map<string, Buffer[]>();
  for (const { rel, stats } of walked) {
    if (stats.isDirectory() || stats.nlink < 2n) continue;
    const inode = `${stats.dev}:${stats.ino}`;
    byInode.set(inode, [...(byInode.get(inode) ?? []), rel]);
  }
  const groups = new Map<Buffer, string>();
  for (const members of byInode.values()) {
    const [first] = members;
    if (first === undefined || members.length < 2) continue;
    for (const member of members) groups.set(member, printablePath(first));
  }
  return groups;
}

export async function snapshotTree(root: string, opts: SnapshotOptions = {}): Promise<TreeSnapshot> {
  const rootBytes = Buffer.from(root);
  const walked = await walkTree(root);
  const groups = hardLinkGroups(walked);
  const entries = new Map<string, EntrySnapshot>();
  for (const { rel, stats } of walked) {
    const full = joinRaw(rootBytes, rel);
    const type = typeOf(stats);
    entries.set(entryKey(rel), {
      rawPath: rel,
      path: printablePath(rel),
      type,
      mode: Number(stats.mode & 0o7777n),
      size: Number(stats.size),
      sha256: type === 'file' ? await sha256Of(full) : null,
      linkTarget: type === 'symlink' ? await fs.readlink(full, { encoding: 'buffer' }) : null,
      mtimeNs: stats.mtimeNs,
      atimeNs: opts.atime ? stats.atimeNs : null,
      uid: Number(stats.uid),
      gid: Number(stats.gid),
      hardLinkGroup: groups.get(rel) ?? null,
      sparse: opts.sparse && type === 'file' ? stats.blocks * 512n < stats.size : null,
    });
  }
  return { root, entries };
}

// ---------------------------------------------------------------------------
// Diffs
// ---------------------------------------------------------------------------

type DiffAspect = 'mode' | 'owner' | 'mtime' | 'dirMtime' | 'symlinkMtime' | 'atime' | 'hardLinks' | 'sparse' | 'root';

/**
 * 'us' (the default): the same microsecond. Node's fs.utimes takes seconds as a double and libuv
 * truncates it to whole microseconds, so a Node copier can keep the microsecond but not the
 * nanoseconds; a careless one lands one microsecond low (the double is just below), rounds
 * .999999999 into the next second, or (passing Date objects) is up to 1 ms off: all fail.
 */
type TimePrecision = 'ns' | 'us' | 'second';

export interface DiffOptions {
  ignore?: readonly DiffAspect[];
  mtimePrecision?: TimePrecision;
}

function sameTime(a: bigint, b: bigint, precision: TimePrecision): boolean {
  const sameSecond = floorDiv(a, NS_PER_SECOND) === floorDiv(b, NS_PER_SECOND);
  switch (precision) {
    case 'ns':
      return a === b;
    case 'us':
      return floorDiv(a, 1000n) === floorDiv(b, 1000n);
    case 'second':
      return sameSecond;
  }
}

function quoteBytes(bytes: Buffer): string {
  return JSON.stringify(printablePath(bytes));
}

function octal(mode: number): string {
  return mode.toString(8).padStart(3, '0');
}

function compareTimes(label: string, a: bigint | null, b: bigint | null, precision: TimePrecision): string[] {
  if (a === null || b === null || sameTime(a, b, precision)) return [];
  return [`${label} ${formatNanoseconds(a)} != ${formatNanoseconds(b)}`];
}

function compareEntries(a: EntrySnapshot, b: EntrySnapshot, ignored: ReadonlySet<DiffAspect>, precision: TimePrecision): string[] {
  if (a.type !== b.type) return [`type ${a.type} != ${b.type}`];
  const problems: string[] = [];
  if (!ignored.has('mode') && a.type !== 'symlink' && a.mode !== b.mode) {
    problems.push(`mode ${octal(a.mode)} != ${octal(b.mode)}`);
  }
  if (!ignored.has('owner')) {
    if (a.uid !== b.uid) problems.push(`uid ${a.uid} != ${b.uid}`);
    if (a.gid !== b.gid) problems.push(`gid ${a.gid} != ${b.gid}`);
  }
  if (a.type === 'file' && a.size !== b.size) problems.push(`size ${a.size} != ${b.size}`);
  else if (a.sha256 !== b.sha256) problems.push(`content differs (sha256 ${a.sha256?.slice(0, 12)} != ${b.sha256?.slice(0, 12)})`);
  if (a.linkTarget && b.linkTarget && !a.linkTarget.equals(b.linkTarget)) {
    problems.push(`link target ${quoteBytes(a.linkTarget)} != ${quoteBytes(b.linkTarget)}`);
  }
  const mtimeIgnored =
    ignored.has('mtime') || (a.type === 'dir' && ignored.has('dirMtime')) || (a.type === 'symlink' && ignored.has('symlinkMtime'));
  if (!mtimeIgnored) problems.push(...compareTimes('mtime', a.mtimeNs, b.mtimeNs, precision));
  // Listing a directory sets its atime, the copier's own listing included: no copy can match that.
  if (!ignored.has('atime') && a.type !== 'dir') problems.push(...compareTimes('atime', a.atimeNs, b.atimeNs, precision));
  if (!ignored.has('hardLinks') && a.hardLinkGroup !== b.hardLinkGroup) {
    problems.push(`hard-link group ${JSON.stringify(a.hardLinkGroup)} != ${JSON.stringify(b.hardLinkGroup)}`);
  }
  if (!ignored.has('sparse') && a.sparse !== null && b.sparse !== null && a.sparse !== b.sparse) {
    problems.push(`sparse ${a.sparse} != ${b.sparse}`);
  }
  return problems;
}

/**
 * Differences from `a` (the source, or what is expected) to `b` (the copy), one line each:
 * "sub/x.txt: mode 644 != 600", "sub/y: missing", "sub/z: extra". Empty when identical.
 */
export function diffTrees(a: TreeSnapshot, b: TreeSnapshot, opts: DiffOptions = {}): string[] {
  const ignored = new Set(opts.ignore ?? []);
  const precision = opts.mtimePrecision ?? 'us';
  const lines: string[] = [];
  for (const [key, entryA] of a.entries) {
    const entryB = b.entries.get(key);
    if (entryB === undefined) lines.push(`${entryA.path}: missing`);
    else if (key !== '' || !ignored.has('root')) {
      lines.push(...compareEntries(entryA, entryB, ignored, precision).map((problem) => `${entryA.path}: ${problem}`));
    }
  }
  for (const [key, entryB] of b.entries) {
    if (!a.entries.has(key)) lines.push(`${entryB.path}: extra`);
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Safety checks
// ---------------------------------------------------------------------------

/** Relative raw paths of every entry under root that is not a directory, in byte order. */
export async function listFilesRecursive(root: string): Promise<Buffer[]> {
  const walked = await walkTree(root);
  return walked.filter(({ stats }) => !stats.isDirectory()).map(({ rel }) => rel);
}

/** Printable relative paths of the entries (of any type) under root that end like a name of foldercopy's own (src/shared/names-on-disk.ts). */
export async function findTempLeftovers(root: string): Promise<string[]> {
  const walked = await walkTree(root);
  return walked
    .filter(({ rel }) => rel.length > 0 && endsLikeOurName(rel.subarray(rel.lastIndexOf(SLASH) + 1).toString('utf8')))
    .map(({ rel }) => printablePath(rel));
}

/** A fresh temporary `root` and two paths in it, `source` and `copy`, neither made yet: how most tests begin. */
export async function sourceAndCopy(tempDir: () => Promise<string>): Promise<{ root: string; source: string; copy: string }> {
  const root = await tempDir();
  return { root, source: path.join(root, 'source'), copy: path.join(root, 'copy') };
}

/** The big tree's shape: 20,000 small files in 100 directories, a few seconds to copy on a 2-core machine. */
export const BIG_TREE = { dirs: 100, filesPerDir: 200, files: 20_000 } as const;

/** Writes the big tree at `root`. */
export function writeBigTree(root: string): void {
  writeManySmallFiles(root, BIG_TREE.dirs, BIG_TREE.filesPerDir);
}

/** `a.txt` and a 64 GiB sparse `disk.img` (a few kB of data): a worker spends many seconds inside it, cheaply. */
export function writeSparseSource(root: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'a.txt'), 'a\n');
  const handle = openSync(path.join(root, 'disk.img'), 'w');
  ftruncateSync(handle, 64 * 1024 ** 3);
  writeSync(handle, Buffer.alloc(4096, 'data'), 0, 4096, 0);
  closeSync(handle);
}

/** `dirs` directories d000… of `filesPerDir` small files each, written fast (no per-entry metadata). */
export function writeManySmallFiles(root: string, dirs: number, filesPerDir: number): void {
  for (let d = 0; d < dirs; d++) {
    const dir = path.join(root, `d${String(d).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < filesPerDir; f++) writeFileSync(path.join(dir, `f${f}.txt`), `file ${d}/${f}\n`.repeat(1 + (f % 7)));
  }
}

/**
 * Flips one byte of `file` in place (at offset 10), its size and times set back as they were (to the
 * millisecond): what a failing disk or a stray write leaves; only its ctime tells.
 */
export function flipByteKeepingTimes(file: string): void {
  const { atime, mtime } = statSync(file);
  const fd = openSync(file, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, 10);
  byte[0] = byte[0]! ^ 0xff;
  writeSync(fd, byte, 0, 1, 10);
  closeSync(fd);
  utimesSync(file, atime, mtime);
}
