import net from 'node:net';

/**
 * A TCP forwarder in front of a real server, so a test can make the server "go away" for one
 * adapter (every open connection reset, new ones refused) and come back, without stopping the
 * server other test files share.
 */
export interface TcpProxy {
  /** Port the proxy listens on (stable across interrupt/restore). */
  readonly port: number;
  /** Resets every open connection and refuses new ones. */
  interrupt(): Promise<void>;
  /** Until the next interrupt: requests still reach the server, its replies are dropped (a reply lost in the network). */
  swallowReplies(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const makeServer = (): net.Server =>
    net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      sockets.add(client);
      sockets.add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (!swallowing) client.write(chunk);
      });
    });
  let swallowing = false;
  let server = makeServer();
  const listen = (s: net.Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
    });
  const port = await listen(server, 0);
  let listening = true;
  const stop = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    swallowing = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
    });
  };
  return {
    port,
    interrupt: stop,
    async swallowReplies() {
      swallowing = true;
    },
    async restore() {
      if (listening) return;
      server = makeServer();
      await listen(server, port);
      listening = true;
    },
    close: stop,
  };
}
