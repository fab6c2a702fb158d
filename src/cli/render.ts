/**
 * Shows progress on stderr: a cli-progress bar on a terminal, plain complete lines
 * at most every few seconds elsewhere (CI logs, pipes), where `\r` and cursor
 * movement would only garble the log. Failure lines go through here too, so they
 * print above the bar instead of through it. Ctrl-Z (SIGTSTP) leaves the shell a
 * clean line with the cursor shown, and `fg` (SIGCONT) draws the bar again.
 */
import type cliProgress from 'cli-progress';
import { displayText, formatBytes, formatCount, formatDuration, formatRate } from './format.js';
import type { CopyProgress } from '../run/types.js';

export interface Renderer {
  progress(snapshot: CopyProgress): void;
  /** A complete line (no newline), such as a failure. */
  message(line: string): void;
  /** Leaves the terminal clean: bar gone, cursor shown, pending lines written. */
  stop(): void;
}

/** Without `showProgress` only messages are written: no bar, no status lines. */
export async function createRenderer(stream: NodeJS.WriteStream, showProgress: boolean): Promise<Renderer> {
  if (!stream.isTTY || !showProgress) return new LineRenderer(stream);
  // Loaded only for a terminal: CI runs and pipes skip its start-up cost.
  const { default: progressBars } = await import('cli-progress');
  return new BarRenderer(stream, progressBars);
}

// Rate and ETA are averaged over this window, long enough to smooth a big file's bursts.
const RATE_WINDOW_MS = 5000;
const PLAIN_LINE_INTERVAL_MS = 5000;
// What a Ctrl-Z and the `fg` after it write around the bar (cli-progress writes the same ones).
const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';
const CLEAR_LINE = '\r\x1b[2K';

class RateMeter {
  private samples: Array<{ at: number; bytes: number; percent: number }> = [];

  add(snapshot: CopyProgress): void {
    const at = snapshot.elapsedMs;
    this.samples.push({ at, bytes: snapshot.bytesDone, percent: snapshot.percent });
    while (this.samples.length > 2 && at - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
  }

  bytesPerSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }

  /** Undefined until there is a slope to extrapolate; percent is 0 while the tree is listed. */
  etaMs(): number | undefined {
    const first = this.samples.find((sample) => sample.percent > 0);
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.percent <= first.percent) return undefined;
    const percentPerMs = (last.percent - first.percent) / (last.at - first.at);
    return (100 - last.percent) / percentPerMs;
  }
}

function describe(snapshot: CopyProgress, meter: RateMeter): string[] {
  const atLeast = snapshot.listing ? '≥' : '';
  const eta = meter.etaMs();
  return [
    snapshot.listing ? 'listing…' : `${Math.floor(snapshot.percent)}%`,
    `${formatCount(snapshot.filesDone)}/${atLeast}${formatCount(snapshot.filesTotal)} files`,
    formatBytes(snapshot.bytesDone),
    formatRate(meter.bytesPerSecond()),
    snapshot.listing || eta === undefined ? 'ETA --' : `ETA ${formatDuration(eta)}`,
  ];
}

class BarRenderer implements Renderer {
  private readonly meter = new RateMeter();
  private readonly bars: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly progressBars: typeof cliProgress,
  ) {
    this.bars = new progressBars.MultiBar({
      stream,
      fps: 10,
      barsize: 24,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      hideCursor: true,
      clearOnComplete: true,
      // Our own SIGINT handler stops the bar; cli-progress's would race with it.
      gracefulExit: false,
      format: (options, params, payload: { snapshot?: CopyProgress }) => this.line(options, params, payload.snapshot),
    });
  }

  progress(snapshot: CopyProgress): void {
    this.meter.add(snapshot);
    if (!this.bar) {
      this.bar = this.bars.create(100, snapshot.percent, { snapshot });
      process.on('SIGTSTP', this.suspend);
      process.on('SIGCONT', this.resume);
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

  private line(options: cliProgress.Options, params: cliProgress.Params, snapshot: CopyProgress | undefined): string {
    const bar = this.progressBars.Format.BarFormat(params.progress, options);
    if (!snapshot) return bar;
    const text = `${bar} ${describe(snapshot, this.meter).join(' | ')}`;
    const width = (this.stream.columns || 80) - 1;
    const file = displayText(snapshot.currentPath ?? '');
    const room = width - text.length - 3;
    if (room < 8 || file === '') return text.slice(0, width);
    return `${text} | ${file.length > room ? `…${file.slice(file.length - room + 1)}` : file}`;
  }
}

class LineRenderer implements Renderer {
  private readonly meter = new RateMeter();
  private lastLineAt = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  progress(snapshot: CopyProgress): void {
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
