/** A progress bar with ETA on stderr; plain periodic lines when stderr is not a terminal. */
export interface ProgressBar {
  update(fraction: number, note?: string): void;
  done(note?: string): void;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

export function createProgressBar(label: string, stream: NodeJS.WriteStream = process.stderr, enabled = true): ProgressBar {
  const start = Date.now();
  const tty = stream.isTTY === true;
  let lastPrint = 0;
  let lastFraction = -1;
  let printed = false;
  let current = 0;
  // A heartbeat: a long kernel call may report its first fraction late (or rarely), so the bar is
  // redrawn from the timer too and appears within 2 s of the start whatever the call reports.
  // Unreferenced: it never keeps the process alive. (WebAssembly calls block the thread: no beat.)
  const heartbeat = enabled ? setInterval(() => bar.update(current), 500) : undefined;
  heartbeat?.unref?.();
  const line = (fraction: number, note?: string): string => {
    const elapsed = (Date.now() - start) / 1000;
    const eta = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Number.NaN;
    const width = 28;
    const filled = Math.round(width * fraction);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    return `${label} [${bar}] ${(100 * fraction).toFixed(0).padStart(3)}%  elapsed ${formatSeconds(elapsed)}  eta ${formatSeconds(eta)}${note ? `  ${note}` : ''}`;
  };
  const bar: ProgressBar = {
    update(fraction, note) {
      if (!enabled) return;
      const f = Math.min(1, Math.max(0, fraction));
      current = f;
      const now = Date.now();
      if (tty) {
        if (now - lastPrint < 100 && f < 1) return;
        stream.write(`\r${line(f, note)}\x1b[K`);
      } else {
        // Logs: nothing for short work, then a line every 5 s or 10 %, whichever comes later.
        if (now - start < 1500 || (now - lastPrint < 5000 && f - lastFraction < 0.1)) return;
        stream.write(`${line(f, note)}\n`);
        lastFraction = f;
      }
      lastPrint = now;
      printed = true;
    },
    done(note) {
      if (heartbeat) clearInterval(heartbeat);
      if (!enabled || !printed) return;
      if (tty) stream.write(`\r${line(1, note)}\x1b[K\n`);
      else stream.write(`${line(1, note)}\n`);
    },
  };
  return bar;
}
