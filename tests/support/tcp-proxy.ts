import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP pass-through to a dependency (DynamoDB Local) that a test can stall: in `stall` mode it
 * accepts connections and never forwards a byte, which is how a dependency that hangs looks to its
 * client (as opposed to one that is down and refuses connections).
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  let stalled = false;
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (stalled) return; // held: no answer, until the test resumes or closes
    const upstream = createConnection(target);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const dropAll = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    /** Drops the connections in use (their requests fail and are retried) and holds every new one. */
    stall() {
      stalled = true;
      dropAll();
    },
    resume() {
      stalled = false;
      dropAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
