import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '#shared/api/openapi';
import { allRoutes } from '#shared/api/routes';
import { allFunctions, operatorCommands } from '../../functions/manifest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('function manifest', () => {
  it('serves every documented route exactly once, from an existing entry file', () => {
    const served = allFunctions.flatMap((f) => f.routes.map((r) => `${r.method} ${r.path}`));
    expect(new Set(served).size).toBe(served.length);
    expect(served.sort()).toEqual(allRoutes.map((r) => `${r.method} ${r.path}`).sort());
    for (const fn of allFunctions) expect(existsSync(`${root}${fn.entry}`), fn.entry).toBe(true);
  });

  it('gives every job a unique name and a schedule EventBridge accepts', () => {
    const jobs = allFunctions.filter((f) => f.job);
    expect(new Set(jobs.map((j) => j.job!.name)).size).toBe(jobs.length);
    for (const job of jobs) expect(job.job!.schedule).toMatch(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/);
  });

  it('keeps operator commands local: existing entries, names apart from the jobs, never deployed', () => {
    const jobs = new Set(allFunctions.flatMap((f) => (f.job ? [f.job.name] : [])));
    expect(new Set(operatorCommands.map((c) => c.name)).size).toBe(operatorCommands.length);
    for (const command of operatorCommands) {
      expect(existsSync(`${root}${command.entry}`), command.entry).toBe(true);
      expect(jobs.has(command.name)).toBe(false);
      expect(allFunctions.some((f) => f.entry === command.entry)).toBe(false);
    }
  });

  it('documents every route in OpenAPI with its security and problem responses', () => {
    const doc = buildOpenApi(allRoutes, { version: 'test' });
    for (const route of allRoutes) {
      const op = (doc.paths[route.path] as Record<string, { operationId: string; security: unknown[] }>)[route.method.toLowerCase()]!;
      expect(op.operationId).toBe(route.operationId);
      expect(op.security.length).toBe(route.auth.kind === 'public' ? 0 : 1);
    }
    expect(new Set(allRoutes.map((r) => r.operationId)).size).toBe(allRoutes.length);
  });
});
