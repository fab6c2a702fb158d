/**
 * The progress bar's line, as a pure function of the terminal's width and the
 * snapshot's fields: no field is ever cut. When the line does not fit, whole
 * fields are dropped (the current file first, then bytes, then the rate), then
 * the bar shrinks (and goes), and only then, on a very narrow terminal, are the
 * ETA, the percent and at last the file count dropped, each whole. The current
 * file is the only field that is shortened, and only at its start, with `…`
 * (`…/06/IMG_0412.jpg`), when at least MIN_FILE_ROOM characters are left for it.
 */

export interface BarFields {
  /** 0 to 100. */
  percent: number;
  /** The tree is still being listed: no percent is claimed. */
  listing: boolean;
  /** `24,112/50,000 files`, or `24,112/≥50,000 files` while listing. */
  files: string;
  /** `291 MB` */
  bytes: string;
  /** `212 MB/s` */
  rate: string;
  /** `ETA 1.4 s` or `ETA --` */
  eta: string;
  /** Already escaped for display; '' or undefined for none. */
  file?: string | undefined;
}

export const BAR_SIZE = 24;
const MIN_BAR_SIZE = 4;
const MIN_FILE_ROOM = 12;
const SEPARATOR = ' | ';
const COMPLETE = '\u2588';
const INCOMPLETE = '\u2591';

/** The bar itself, `size` characters wide. */
export function barText(percent: number, size: number): string {
  const complete = Math.max(0, Math.min(size, Math.round((percent / 100) * size)));
  return COMPLETE.repeat(complete) + INCOMPLETE.repeat(size - complete);
}

/** Characters as a terminal counts them here: every character we print is one column wide. */
function columns(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

type FieldName = 'percent' | 'files' | 'bytes' | 'rate' | 'eta';

/**
 * The line for a terminal `width` columns wide (the caller leaves the last column
 * free, so a full line never wraps): at most `width` characters.
 */
export function layoutBar(width: number, fields: BarFields): string {
  const text: Record<FieldName, string> = {
    percent: fields.listing ? 'listing…' : `${Math.floor(fields.percent)}%`,
    files: fields.files,
    bytes: fields.bytes,
    rate: fields.rate,
    eta: fields.eta,
  };
  // Shown left to right in this order.
  const order: FieldName[] = ['percent', 'files', 'bytes', 'rate', 'eta'];
  const shown = new Set<FieldName>(order);
  let barSize = BAR_SIZE;
  const compose = (): string => {
    const parts = order.filter((name) => shown.has(name)).map((name) => text[name]);
    // The bar and the percent go together without a separator: `████░░ 48% | …`.
    const head = barSize > 0 ? [barText(fields.percent, barSize), parts[0]].filter((p) => p !== undefined).join(' ') : parts[0];
    const rest = parts.slice(1);
    return [head ?? '', ...rest].filter((p) => p !== '').join(SEPARATOR);
  };
  const fits = (): boolean => columns(compose()) <= width;

  for (const name of ['bytes', 'rate'] as const) {
    if (fits()) break;
    shown.delete(name);
  }
  if (!fits()) {
    const over = columns(compose()) - width;
    barSize = barSize - over >= MIN_BAR_SIZE ? barSize - over : 0;
  }
  // Last resort, on a terminal narrower than the essentials: drop them whole.
  for (const name of ['eta', 'percent', 'files'] as const) {
    if (fits()) break;
    shown.delete(name);
  }
  let line = compose();
  if (!fits()) return '';

  const file = fields.file ?? '';
  const room = width - columns(line) - SEPARATOR.length;
  if (file !== '' && room >= MIN_FILE_ROOM) {
    const chars = [...file];
    line += SEPARATOR + (chars.length > room ? `…${chars.slice(chars.length - room + 1).join('')}` : file);
  }
  return line;
}
