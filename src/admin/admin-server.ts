import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { optionKeys } from '../core/validate.js';
import {
  type AdminHandler,
  type AdminHandlerOptions,
  createAdminHandler,
  refuseUnknownAdminOptions,
} from './admin-handler.js';
import type { AdminSource } from './admin-source.js';

/** Options for `mesh.admin()`. */
export interface AdminOptions extends AdminHandlerOptions {
  /** Port to listen on; 0 picks a free one [9990]. */
  port?: number;
  /** Address to listen on [`127.0.0.1`]. Anything but a loopback address needs `allowRemote`. */
  host?: string;
  /**
   * Allows a non-loopback `host`. The admin endpoint shows request paths (and so whatever
   * callers put in them) and the mesh's topology: open it to a network only on purpose.
   */
  allowRemote?: boolean;
}

/** A running admin endpoint. */
export interface AdminServer {
  /** Base URL, for example `http://127.0.0.1:9990/`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The handler it serves (its tap counts). */
  readonly handler: AdminHandler;
  /** Stops listening and ends open tap streams. */
  close(): Promise<void>;
}

const DEFAULT_PORT = 9990;
const ADMIN_KEYS = optionKeys<AdminOptions>({ port: true, host: true, allowRemote: true, tap: true });

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function refuse(message: string): TrellisError {
  return new TrellisError(ErrorCode.InvalidConfig, message);
}

/** Starts the admin endpoint on its own HTTP server (see `Mesh.admin`). */
export async function startAdminServer(
  source: AdminSource,
  options: AdminOptions = {},
): Promise<AdminServer> {
  refuseUnknownAdminOptions('mesh.admin', options, ADMIN_KEYS);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw refuse(`mesh.admin(): port must be an integer from 0 to 65535, got ${JSON.stringify(port)}.`);
  if (typeof host !== 'string' || host.length === 0)
    throw refuse(`mesh.admin(): host must be an address such as '127.0.0.1', got ${JSON.stringify(host)}.`);
  if (!isLoopback(host) && options.allowRemote !== true) {
    throw refuse(
      `mesh.admin() refuses to listen on '${host}': the admin endpoint shows request paths and the mesh's ` +
        'endpoints, so it listens on loopback unless you pass allowRemote: true.',
    );
  }
  const handler = createAdminHandler(source, options);
  const server: Server = createServer(handler);
  server.listen(port, host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => Promise.reject(err)),
    ]);
  } catch (err) {
    handler.close();
    throw refuse(
      `mesh.admin() could not listen on ${host}:${port}: ${(err as Error).message}. Pick another port (0 for any).`,
    );
  }
  // Tap streams stay open for as long as their clients like; the admin endpoint must not keep the process alive.
  server.unref();
  const address = server.address() as { port: number };
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${address.port}/`,
    port: address.port,
    handler,
    close: async () => {
      handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
