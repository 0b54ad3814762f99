/** The CLI progress bar shows up within 2 s of a long call even when the call reports nothing yet. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgressBar } from '../src/cli/progress.js';

function fakeStream(tty: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY: tty, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

afterEach(() => vi.useRealTimers());

describe('progress heartbeat', () => {
  it.each([[false], [true]])('draws a line within 2 s without any update (tty %s)', (tty) => {
    vi.useFakeTimers();
    const stream = fakeStream(tty);
    const bar = createProgressBar('analyze', stream, true);
    vi.advanceTimersByTime(1000);
    if (!tty) expect(stream.text).toBe('');
    vi.advanceTimersByTime(1000);
    expect(stream.text).toMatch(/analyze \[-+\]\s+0%\s+elapsed/);
    bar.done();
    const length = stream.text.length;
    vi.advanceTimersByTime(10_000);
    expect(stream.text.length).toBe(length);
  });
  it('stays silent when disabled', () => {
    vi.useFakeTimers();
    const stream = fakeStream(false);
    createProgressBar('analyze', stream, false);
    vi.advanceTimersByTime(10_000);
    expect(stream.text).toBe('');
  });
});
