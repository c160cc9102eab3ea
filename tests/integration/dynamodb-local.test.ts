import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, inject, it } from 'vitest';

/**
 * DynamoDB Local holds the members' emails: nobody else on the network may reach it. The run's own
 * instance (tests/support/global-setup.ts, started like `npm start` starts it) is checked from the
 * outside: what the kernel lists as listening (what `ss -ltnp` shows), and a connection attempt on
 * every other address of this machine.
 */
const endpoint = new URL(inject('dynamodbEndpoint'));
const port = Number(endpoint.port);
const external = !!process.env.TEST_DYNAMODB_ENDPOINT;

/** Local addresses listening on `port`, from /proc/net/tcp and tcp6 (hex, as the kernel keeps them). */
function listeners(): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A: LISTEN
      const [address, hexPort] = local.split(':');
      if (Number.parseInt(hexPort!, 16) === port) out.push(address!);
    }
  }
  return out;
}

const connects = (host: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });

describe.skipIf(external)('the embedded DynamoDB Local', () => {
  it('listens on 127.0.0.1 only', () => {
    const addresses = listeners();
    if (addresses.length === 0) return; // no /proc (not Linux): the connection test below still holds
    // 127.0.0.1 as IPv4, or IPv4-mapped on an IPv6 socket; never the wildcard (all zeros).
    for (const address of addresses) expect(['0100007F', '0000000000000000FFFF00000100007F']).toContain(address);
  });

  it('answers on loopback and refuses every other address of this machine', async () => {
    expect(await connects('127.0.0.1')).toBe(true);
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal && i.family === 'IPv4')
      .map((i) => i!.address);
    for (const address of others) expect(await connects(address), address).toBe(false);
  });
});
