/**
 * A tiny progress bar for jobs run by hand (`npm run job`): drawn only when the stream is a terminal,
 * so Lambda logs and CI output stay clean. Redraws at most every 100 ms.
 */
export interface Progress {
  setTotal(total: number): void;
  tick(count?: number): void;
  done(): void;
}

/** `estimated`: the total is a guess (marked `~`), as when nothing tells the count up front. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, options: { estimated?: boolean } = {}): Progress {
  const about = options.estimated === false ? '' : '~';
  if (!stream.isTTY) return { setTotal: () => undefined, tick: () => undefined, done: () => undefined };
  let total = 0;
  let count = 0;
  let drawnAt = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - drawnAt < 100) return;
    drawnAt = now;
    const width = 30;
    const ratio = total > 0 ? Math.min(1, count / total) : 0;
    const filled = Math.round(ratio * width);
    const bar = total > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(ratio * 100)}%` : '';
    stream.write(`\r${label} ${bar} ${count}${total > 0 ? `/${about}${total}` : ''}`);
  };
  return {
    setTotal: (n) => {
      total = n;
      draw(true);
    },
    tick: (n = 1) => {
      count += n;
      draw();
    },
    done: () => {
      draw(true);
      stream.write('\n');
    },
  };
}
