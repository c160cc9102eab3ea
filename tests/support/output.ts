import { afterEach, beforeEach, vi } from 'vitest';
import { logger } from '#shared/observability';

/**
 * Captures what the handlers print (Powertools JSON logs, EMF metrics) for each test of a file,
 * with the logger at `level`. Returns the live list of printed lines.
 */
export function captureOutput(level: 'DEBUG' | 'INFO' = 'DEBUG'): string[] {
  const lines: string[] = [];
  beforeEach(() => {
    lines.length = 0;
    logger.setLogLevel(level);
    const capture = (chunk: unknown) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    logger.setLogLevel('SILENT');
  });
  return lines;
}
