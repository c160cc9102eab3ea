import { describe, expect, it } from 'vitest';
import { progressBar } from '#shared/runtime/progress';

const stream = (isTTY: boolean) => {
  const writes: string[] = [];
  return {
    writes,
    stream: {
      isTTY,
      write: (s: string) => {
        writes.push(s);
        return true;
      },
    } as unknown as NodeJS.WriteStream,
  };
};

describe('job progress bar', () => {
  it('draws on a terminal, with the expected total once known', () => {
    const { writes, stream: s } = stream(true);
    const bar = progressBar('reconcile 2026-10', s);
    bar.setTotal(200);
    for (let i = 0; i < 100; i++) bar.tick();
    bar.done();
    expect(writes.at(-2)).toBe(`\rreconcile 2026-10 [${'#'.repeat(15)}${'.'.repeat(15)}] 50% 100/~200`);
    expect(writes.at(-1)).toBe('\n');
  });

  it('writes nothing when the output is not a terminal (Lambda, CI, pipes)', () => {
    const { writes, stream: s } = stream(false);
    const bar = progressBar('reconcile', s);
    bar.setTotal(10);
    bar.tick();
    bar.done();
    expect(writes).toEqual([]);
  });
});
