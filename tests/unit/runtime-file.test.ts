import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverLocalRuntime, type LocalRuntime, removeRuntimeFile, writeRuntimeFile } from '../../local/runtime-file';

const dir = mkdtempSync(join(tmpdir(), 'runtime-file-'));
const runtime = (pid: number): LocalRuntime => ({
  pid,
  startedAt: '2030-01-01T00:00:00.000Z',
  httpUrl: 'http://127.0.0.1:3999',
  dynamodbEndpoint: 'http://127.0.0.1:8999',
  tables: { main: 'm', idempotency: 'i' },
  defaultWebhookSecret: true,
});
const answers = (yes: boolean) => async () => yes;

describe('finding a running npm start through its runtime file', () => {
  it('finds a live one that answers', async () => {
    const file = join(dir, 'live.json');
    writeRuntimeFile(runtime(process.pid), file);
    expect(await discoverLocalRuntime(answers(true), file)).toEqual({
      runtime: runtime(process.pid),
      note: expect.stringContaining(`found npm start (pid ${process.pid})`),
    });
  });

  it('ignores a file left by a process that is gone (killed, so it could not remove it)', async () => {
    const file = join(dir, 'stale.json');
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeRuntimeFile(runtime(gone), file);
    let probed = false;
    const found = await discoverLocalRuntime(async () => (probed = true), file);
    expect(found).toEqual({ runtime: null, note: expect.stringContaining(`stale`) });
    expect(found.note).toContain(`pid ${gone}`);
    expect(probed).toBe(false);
  });

  it('ignores a live process that does not answer where the file says (a reused pid)', async () => {
    const file = join(dir, 'silent.json');
    writeRuntimeFile(runtime(process.pid), file);
    expect(await discoverLocalRuntime(answers(false), file)).toEqual({
      runtime: null,
      note: expect.stringContaining('does not answer at its recorded address'),
    });
  });

  it('says nothing without a file, and ignores one that is not a runtime file', async () => {
    expect(await discoverLocalRuntime(answers(true), join(dir, 'none.json'))).toEqual({ runtime: null, note: null });
    const file = join(dir, 'garbage.json');
    writeFileSync(file, '{"port": 3000');
    expect((await discoverLocalRuntime(answers(true), file)).note).toMatch(/not a runtime file/);
  });

  it('is removed only by the process that wrote it', async () => {
    const file = join(dir, 'owned.json');
    writeRuntimeFile(runtime(process.pid), file);
    removeRuntimeFile(process.pid + 1, file);
    expect((await discoverLocalRuntime(answers(true), file)).runtime).not.toBeNull();
    removeRuntimeFile(process.pid, file);
    expect((await discoverLocalRuntime(answers(true), file)).runtime).toBeNull();
  });
});
