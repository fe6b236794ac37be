import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { PooledConnection } from './connection-pool.js';

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;
type RawHeaders = Buffer[];

function call(method: unknown, self: Handler, args: unknown[]): void {
  if (typeof method === 'function') method.apply(self, args);
}

/** A foreign handler and the connection it holds until its request ends. */
abstract class Tenancy {
  #connection: PooledConnection | null;

  constructor(
    readonly inner: Handler,
    connection: PooledConnection,
  ) {
    this.#connection = connection;
  }

  /** Hands the connection back, once. */
  protected leave(): void {
    const connection = this.#connection;
    this.#connection = null;
    connection?.released();
  }
}

/**
 * A handler that is not the mesh's own (a health check's `request()`, a user's `dispatch`), put on
 * a pooled connection: every callback goes to it unchanged, and the end of the request (its end,
 * its error, an upgrade that takes the socket) also hands the connection back to the pool. Only
 * such handlers pay for the wrapper; the mesh's own tell their connection themselves.
 */
class LegacyTenant extends Tenancy implements Handler {
  // Forwarded with whatever arguments undici passes (its runtime passes more than its types name).
  onConnect(...args: unknown[]): void {
    call(this.inner.onConnect, this.inner, args);
  }

  onResponseStarted(): void {
    this.inner.onResponseStarted?.();
  }

  onHeaders(statusCode: number, headers: RawHeaders, resume: () => void, statusText: string): boolean {
    return this.inner.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.inner.onData?.(chunk) ?? true;
  }

  onBodySent(...args: unknown[]): void {
    call(this.inner.onBodySent, this.inner, args);
  }

  onComplete(trailers: string[] | null): void {
    try {
      this.inner.onComplete?.(trailers);
    } finally {
      this.leave();
    }
  }

  onError(err: Error): void {
    try {
      this.inner.onError?.(err);
    } finally {
      this.leave();
    }
  }

  onUpgrade(statusCode: number, headers: RawHeaders | string[] | null, socket: Duplex): void {
    try {
      this.inner.onUpgrade?.(statusCode, headers, socket);
    } finally {
      this.leave();
    }
  }
}

/** {@link LegacyTenant} for a handler of undici 7's generation (`onRequestStart`...). */
class ModernTenant extends Tenancy implements Handler {
  onRequestStart(controller: Controller, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[]>,
    socket: Duplex,
  ): void {
    try {
      this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
    } finally {
      this.leave();
    }
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Record<string, string | string[] | undefined>): void {
    try {
      this.inner.onResponseEnd?.(controller, trailers);
    } finally {
      this.leave();
    }
  }

  onResponseError(controller: Controller, err: Error): void {
    try {
      this.inner.onResponseError?.(controller, err);
    } finally {
      this.leave();
    }
  }
}

/** Wraps a handler that is not the mesh's so that its end hands `connection` back. */
export function tenantFor(handler: Handler, connection: PooledConnection): Handler {
  return typeof handler.onRequestStart === 'function'
    ? new ModernTenant(handler, connection)
    : new LegacyTenant(handler, connection);
}
