/**
 * Spaces sends evenly to at most `perSecond` (SES's maximum send rate is per second and counts every
 * recipient): each caller reserves the next free slot synchronously, then waits for it, so concurrent
 * callers go out in order, one gap apart, with no burst.
 */
export function sendPacer(
  perSecond: number,
  now: () => number = () => performance.now(),
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): () => Promise<void> {
  if (!(perSecond > 0)) throw new Error(`send rate must be positive, got ${perSecond}`);
  const gapMs = 1000 / perSecond;
  let nextSlot = Number.NEGATIVE_INFINITY;
  return async () => {
    const at = now();
    const slot = Math.max(at, nextSlot);
    nextSlot = slot + gapMs;
    if (slot > at) await sleep(slot - at);
  };
}
