import { describe, expect, it } from 'vitest';
import { sendPacer } from '#shared/notifications/pacer';

describe('sendPacer', () => {
  it('spaces concurrent callers one gap apart, in order, with no burst', async () => {
    let clock = 1000;
    const waits: number[] = [];
    const pace = sendPacer(
      10,
      () => clock,
      async (ms) => {
        waits.push(ms);
      },
    );
    await Promise.all([pace(), pace(), pace(), pace()]);
    expect(waits).toEqual([100, 200, 300]);
    // After a quiet spell the next caller goes at once, the one after it a gap later.
    clock += 5000;
    waits.length = 0;
    await Promise.all([pace(), pace()]);
    expect(waits).toEqual([100]);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => sendPacer(0)).toThrow(/positive/);
  });
});
