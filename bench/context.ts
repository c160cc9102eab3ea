/** What every benchmark module gets from bench/run.ts. */
export interface BenchContext {
  dynamodbEndpoint: string;
  log: (line: string) => void;
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
export const ratio = (a: number, b: number) => (a / b).toFixed(3);
