import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { type ListenerProcess, startListener } from './listener-process.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/unaccepting-listener.mjs', import.meta.url));

/** A listener whose accept queue is full, so connecting to it hangs (fixtures/unaccepting-listener.mjs). */
export interface DroppingEndpoint {
  readonly address: string;
  stop(): Promise<void>;
}

function connects(port: number, withinMs: number, sockets: net.Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => resolve(false));
    const timer = setTimeout(() => resolve(false), withinMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts the listener and opens connections to it until one hangs (at most 16): from then on
 * its accept queue is full and SYNs to it are dropped. Fails if no connection ever hangs.
 */
export async function startDroppingEndpoint(): Promise<DroppingEndpoint> {
  const listener: ListenerProcess = await startListener(FIXTURE, []);
  const fillers: net.Socket[] = [];
  let full = false;
  for (let i = 0; i < 16 && !full; i++) full = !(await connects(listener.port, 500, fillers));
  const stop = async () => {
    for (const socket of fillers) socket.destroy();
    await listener.stop();
  };
  if (!full) {
    await stop();
    throw new Error('the unaccepting listener kept accepting: its accept queue never filled');
  }
  return { address: `127.0.0.1:${listener.port}`, stop };
}
