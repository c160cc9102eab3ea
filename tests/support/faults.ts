/**
 * Dependencies that misbehave on purpose, for the fault-injection tests: a server that accepts a
 * connection and never answers (a black hole), and a TCP proxy that forwards to a real service until
 * told to swallow everything.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Fault {
  url: string;
  close: () => Promise<void>;
}

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as { port: number }).port;
};

const closing = (server: Server, sockets: Set<Socket>) => () =>
  new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });

/** Accepts every connection, reads what is sent, never writes a byte. */
export async function blackHole(): Promise<Fault> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  return { url: `http://127.0.0.1:${await listen(server)}`, close: closing(server, sockets) };
}

export interface FaultyProxy extends Fault {
  mode: 'pass' | 'blackhole';
  /** Where new connections go: switch it to bring "the" dependency back as another instance. */
  target: { host: string; port: number };
}

/** Forwards to `target` (host:port) while `mode` is 'pass'; in 'blackhole' it swallows requests, old connections included. */
export async function faultyProxy(target: { host: string; port: number }): Promise<FaultyProxy> {
  const sockets = new Set<Socket>();
  const proxy: FaultyProxy = { mode: 'pass', target, url: '', close: async () => undefined };
  const server = createServer((client) => {
    const upstream = connect(proxy.target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk) => {
      if (proxy.mode === 'pass') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (proxy.mode === 'pass') client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  proxy.url = `http://127.0.0.1:${await listen(server)}`;
  proxy.close = closing(server, sockets);
  return proxy;
}
