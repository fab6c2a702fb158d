import { describe, expect, it } from 'vitest';
import { progressMode } from '../../src/cli/render.js';

describe('progressMode: where the bar is drawn', () => {
  it('auto: the bar on a terminal, status lines elsewhere', () => {
    expect(progressMode(undefined, true, { TERM: 'xterm-256color' })).toBe('bar');
    expect(progressMode(undefined, false, { TERM: 'xterm-256color' })).toBe('lines');
  });

  it.each(['true', '1', 'yes', 'woodpecker'])('CI=%s on a terminal: status lines', (ci) => {
    expect(progressMode(undefined, true, { CI: ci, TERM: 'xterm' })).toBe('lines');
  });

  it.each(['', 'false', '0'])('CI=%j is no CI: the bar', (ci) => {
    expect(progressMode(undefined, true, { CI: ci, TERM: 'xterm' })).toBe('bar');
  });

  it('TERM=dumb on a terminal: status lines', () => {
    expect(progressMode(undefined, true, { TERM: 'dumb' })).toBe('lines');
  });

  it('--progress forces the bar on a terminal, in CI or with TERM=dumb; --no-progress turns it all off', () => {
    expect(progressMode(true, true, { CI: 'true', TERM: 'dumb' })).toBe('bar');
    expect(progressMode(true, false, {})).toBe('lines');
    expect(progressMode(false, true, {})).toBe('off');
    expect(progressMode(false, false, { CI: 'true' })).toBe('off');
  });
});
