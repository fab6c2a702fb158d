/**
 * Shows progress on stderr: a cli-progress bar on a terminal, plain complete lines
 * at most every few seconds elsewhere (CI logs, pipes), where `\r` and cursor
 * movement would only garble the log. Failure lines go through here too, so they
 * print above the bar instead of through it. Ctrl-Z (SIGTSTP) leaves the shell a
 * clean line with the cursor shown, and `fg` (SIGCONT) draws the bar again. A
 * narrowed terminal gets the bar redrawn at once at its new width, over every row
 * the wider one now takes.
 */
import type cliProgress from 'cli-progress';
import { displayText, formatBytes, formatCount, formatDuration, formatRate } from './format.js';
import { BAR_SIZE, barText, layoutBar, type BarFields } from './layout.js';
import type { CopyProgress } from '../index.js';

export interface Renderer {
  progress(snapshot: CopyProgress): void;
  /** A complete line (no newline), such as a failure. */
  message(line: string): void;
  /** Leaves the terminal clean: bar gone, cursor shown, pending lines written. */
  stop(): void;
}

/** 'bar': the animated bar; 'lines': calm status lines; 'off': neither (failures and the summary still print). */
export type ProgressMode = 'bar' | 'lines' | 'off';

/**
 * A CI log (any non-empty CI other than 'false' or '0') or TERM=dumb on a terminal
 * gets plain lines, as a pipe does; `--progress` (`requested` true) forces the bar on
 * a terminal, `--no-progress` (false) turns progress off, and without either
 * (undefined) the choice is automatic. Off a terminal there is no bar to force: a
 * log gets the status lines.
 */
export function progressMode(requested: boolean | undefined, isTTY: boolean, env: NodeJS.ProcessEnv): ProgressMode {
  if (requested === false) return 'off';
  if (!isTTY) return 'lines';
  if (requested === true) return 'bar';
  const ci = env.CI;
  const inCi = ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
  return inCi || env.TERM === 'dumb' ? 'lines' : 'bar';
}

export async function createRenderer(stream: NodeJS.WriteStream, mode: ProgressMode): Promise<Renderer> {
  if (mode !== 'bar') return new LineRenderer(stream, mode === 'lines');
  // Loaded only for a terminal: CI runs and pipes skip its start-up cost.
  const { default: progressBars } = await import('cli-progress');
  return new BarRenderer(stream, progressBars);
}

// The rate is averaged over this window, long enough to smooth a big file's bursts.
const RATE_WINDOW_MS = 5000;
const PLAIN_LINE_INTERVAL_MS = 5000;
// What a Ctrl-Z and the `fg` after it write around the bar (cli-progress writes the same ones).
const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';
const CLEAR_LINE = '\r\x1b[2K';
const CLEAR_TO_END = '\r\x1b[J';

class RateMeter {
  private samples: Array<{ at: number; bytes: number }> = [];

  add(snapshot: CopyProgress): void {
    const at = snapshot.elapsedMs;
    this.samples.push({ at, bytes: snapshot.bytesDone });
    while (this.samples.length > 2 && at - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
  }

  bytesPerSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}

/** The snapshot's fields as text; the ETA is the snapshot's own estimate (run/estimate.ts). */
function fieldsOf(snapshot: CopyProgress, bytesPerSecond: number): BarFields {
  const atLeast = snapshot.listing ? '≥' : '';
  return {
    percent: snapshot.percent,
    listing: snapshot.listing,
    files: `${formatCount(snapshot.filesDone)}/${atLeast}${formatCount(snapshot.filesTotal)} files`,
    bytes: formatBytes(snapshot.bytesDone),
    rate: formatRate(bytesPerSecond),
    eta: snapshot.listing || snapshot.etaMs === undefined ? 'ETA --' : `ETA ${formatDuration(snapshot.etaMs)}`,
    file: displayText(snapshot.currentPath ?? ''),
  };
}

function describe(snapshot: CopyProgress, meter: RateMeter): string[] {
  const fields = fieldsOf(snapshot, meter.bytesPerSecond());
  return [fields.listing ? 'listing…' : `${Math.floor(fields.percent)}%`, fields.files, fields.bytes, fields.rate, fields.eta];
}

class BarRenderer implements Renderer {
  private readonly meter = new RateMeter();
  private readonly bars: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | undefined;
  /** Columns of the line last drawn: how many rows it takes once the terminal is narrowed. */
  private drawnColumns = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    progressBars: typeof cliProgress,
  ) {
    this.bars = new progressBars.MultiBar({
      stream,
      fps: 10,
      barsize: BAR_SIZE,
      hideCursor: true,
      clearOnComplete: true,
      // Our own SIGINT handler stops the bar; cli-progress's would race with it.
      gracefulExit: false,
      format: (_options, params, payload: { snapshot?: CopyProgress }) => this.line(params, payload.snapshot),
    });
  }

  progress(snapshot: CopyProgress): void {
    this.meter.add(snapshot);
    if (!this.bar) {
      this.bar = this.bars.create(100, snapshot.percent, { snapshot });
      process.on('SIGTSTP', this.suspend);
      process.on('SIGCONT', this.resume);
      this.stream.on('resize', this.resized);
    } else this.bar.update(snapshot.percent, { snapshot });
  }

  message(line: string): void {
    if (this.bar) this.bars.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  stop(): void {
    if (!this.bar) return;
    process.off('SIGTSTP', this.suspend);
    process.off('SIGCONT', this.resume);
    this.stream.off('resize', this.resized);
    // Flush lines logged since the last redraw; stop() alone would drop them.
    this.bars.update();
    this.bars.stop();
    this.bar = undefined;
  }

  /**
   * Ctrl-Z: a listener keeps the process from stopping, so clear the bar, show the
   * cursor, and stop as SIGTSTP's default action would (the listener removed, the
   * signal raised again). The workers, in the same process group, got it from the
   * terminal and stop on their own.
   */
  private readonly suspend = (): void => {
    // Lines logged since the last redraw go out first.
    this.bars.update();
    this.stream.write(`${CLEAR_LINE}${SHOW_CURSOR}`);
    process.off('SIGTSTP', this.suspend);
    process.kill(process.pid, 'SIGTSTP');
  };

  /** `fg` or `bg` (SIGCONT): Ctrl-Z is ours again, and the bar is drawn where the cursor now is. */
  private readonly resume = (): void => {
    if (!this.bar) return;
    if (!process.listeners('SIGTSTP').includes(this.suspend)) process.on('SIGTSTP', this.suspend);
    this.stream.write(HIDE_CURSOR);
    // Forced: the bar only redraws a line that changed, and this one was cleared.
    (this.bar as cliProgress.GenericBar).render(true);
  };

  /**
   * The terminal changed its width. One that rewraps its lines when narrowed (most do)
   * has made the line drawn at the old width into several rows, the cursor on the last:
   * the bar's own redraw would clear that row only, and leave the others above it. So
   * all of them are cleared, and the bar drawn at the new width at once.
   */
  private readonly resized = (): void => {
    if (!this.bar) return;
    const rows = Math.ceil(this.drawnColumns / (this.stream.columns || 80));
    this.stream.write(`${rows > 1 ? `\x1b[${rows - 1}A` : ''}${CLEAR_TO_END}`);
    (this.bar as cliProgress.GenericBar).render(true);
  };

  /** Whole fields only, laid out for the terminal's width now (layout.ts); the last column stays free. */
  private line(params: cliProgress.Params, snapshot: CopyProgress | undefined): string {
    const line = snapshot ? layoutBar((this.stream.columns || 80) - 1, fieldsOf(snapshot, this.meter.bytesPerSecond())) : barText(params.progress * 100, BAR_SIZE);
    this.drawnColumns = [...line].length;
    return line;
  }
}

class LineRenderer implements Renderer {
  private readonly meter = new RateMeter();
  private lastLineAt = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly statusLines: boolean,
  ) {}

  progress(snapshot: CopyProgress): void {
    if (!this.statusLines) return;
    this.meter.add(snapshot);
    if (snapshot.elapsedMs - this.lastLineAt < PLAIN_LINE_INTERVAL_MS) return;
    this.lastLineAt = snapshot.elapsedMs;
    this.stream.write(`foldercopy: ${describe(snapshot, this.meter).join(', ')}\n`);
  }

  message(line: string): void {
    this.stream.write(`${line}\n`);
  }

  stop(): void {}
}
