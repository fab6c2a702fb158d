/** Human formatting shared by the progress display and the summary. */

/** 12345 → "12,345"; a regular expression, because loading Intl's number formatter costs ~15 ms of start-up. */
export function formatCount(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Decimal units, as `du --si` and disk vendors count. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${value} B`;
  const text = threeDigits(value);
  // 999,999 B rounds to 1000 kB: that is 1.00 MB.
  if (text === '1000' && unit < BYTE_UNITS.length - 1) return `1.00 ${BYTE_UNITS[unit + 1]}`;
  return `${text} ${BYTE_UNITS[unit]}`;
}

/** Three significant digits, the decimals chosen after rounding: 9.999 is 10.0, not 10.00. */
function threeDigits(value: number): string {
  return value.toFixed(value < 9.995 ? 2 : value < 99.95 ? 1 : 0);
}

export function formatDuration(ms: number): string {
  // Below 9.95 s one decimal still fits; above, 9.96 s would print as 10.0 s.
  if (ms < 9_950) return `${(ms / 1000).toFixed(ms < 995 ? 2 : 1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

// Backslash (the escape character itself), C0 controls, DEL, C1 controls and lone surrogates.
const NEEDS_ESCAPE = /[\\\u0000-\u001f\u007f-\u009f]|\p{Cs}/gu;
const SHORT_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A path (or a message holding one) as a person reads it, from the lossless text the
 * library gives out (pathText): valid characters as they are, a backslash as `\\`,
 * control characters (C0, DEL, C1) as `\n`, `\r`, `\t` or `\u00XX`, and a byte that
 * is not UTF-8 (U+DC80–U+DCFF) as `\xHH`, like `ls --quoting-style=escape`. So a
 * message stays one line, a name cannot move the terminal's cursor, and two
 * different names never print the same.
 */
export function displayText(text: string): string {
  return text.replace(NEEDS_ESCAPE, (c) => {
    const short = SHORT_ESCAPES[c];
    if (short) return short;
    const code = c.charCodeAt(0);
    if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code - 0xdc00).toString(16).padStart(2, '0')}`;
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A line of fields (`a, b; c, d`) for a terminal `width` columns wide: broken
 * after a `, ` or `; ` where it would not fit, continuation lines indented, so
 * the terminal never wraps it in the middle of a number. A field longer than
 * the width stays whole on a line of its own.
 */
export function wrapFields(line: string, width: number): string {
  if ([...line].length <= width) return line;
  const indent = '  ';
  const pieces = line.split(/(?<=[,;] )/);
  const rows: string[] = [];
  let row = '';
  for (const piece of pieces) {
    const candidate = row + piece;
    if (row !== '' && [...candidate.trimEnd()].length > width) {
      rows.push(row.trimEnd());
      row = indent + piece;
    } else row = candidate;
  }
  rows.push(row.trimEnd());
  return rows.join('\n');
}
