import type { ConnectionOptions } from 'node:tls';
import { optionKeys, unknownOptions } from '../core/validate.js';

/** TLS settings for connections to a service's endpoints (see `trellis/tls`). */
export interface TransportTls {
  /** Trusted CA certificates (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate chain for mutual TLS (PEM). */
  cert?: string | Buffer;
  /** Client private key for mutual TLS (PEM). */
  key?: string | Buffer;
  /** SNI server name and the name checked against the server's certificate. */
  servername?: string;
  /** Extra `node:tls` connect options (for example `checkServerIdentity`). */
  connect?: ConnectionOptions;
}

/** How the mesh talks to the endpoints of a service. Every field has a production default. */
export interface TransportOptions {
  /** Maximum connections per endpoint; 128 by default. */
  connections?: number;
  /** Requests pipelined per HTTP/1.1 connection; 1 (no pipelining) by default. */
  pipelining?: number;
  /** Negotiate HTTP/2 (ALPN) when the server offers it; off by default. Needs `tls`: `build()` rejects it without. */
  http2?: boolean;
  /** Idle keep-alive time for pooled connections in ms; 4000 by default. */
  keepAliveTimeout?: number;
  /** Connection (TCP and TLS) establishment limit in ms; 3000 by default. */
  connectTimeout?: number;
  /**
   * Per-attempt idle limit in ms, for requests that set no deadline as much as for those that do:
   * an attempt fails with `TRELLIS_DEADLINE_EXCEEDED` when, once sent, it waits this long for
   * the response headers, or this long between two chunks of the response body. 10 000 by
   * default (linkerd's default route timeout), so an endpoint that accepts and never answers, or
   * stalls mid-body, cannot hold a call for good. It does not bound a body that trickles: give
   * such calls a `timeout`. Runs on undici's coarse timer (up to about a second late), at no
   * per-request cost.
   */
  idleTimeout?: number;
  /** TLS to the endpoints; plain HTTP when absent. */
  tls?: TransportTls;
}

/** Transport defaults used where neither the mesh nor the service sets a field. */
export const DEFAULT_TRANSPORT: Readonly<Required<Omit<TransportOptions, 'tls'>>> = Object.freeze({
  connections: 128,
  pipelining: 1,
  http2: false,
  keepAliveTimeout: 4000,
  connectTimeout: 3000,
  idleTimeout: 10_000,
});

const KNOWN_OPTIONS: ReadonlySet<string> = new Set<keyof TransportOptions>([
  'connections',
  'pipelining',
  'http2',
  'keepAliveTimeout',
  'connectTimeout',
  'idleTimeout',
  'tls',
]);

// `connect` is handed to node:tls as it is (Node's own options), so only the top level is checked.
const TLS_KEYS = optionKeys<TransportTls>({
  ca: true,
  cert: true,
  key: true,
  servername: true,
  connect: true,
});

/** Lists what is wrong with transport options, each as a sentence the user can act on. */
export function validateTransport(options: TransportOptions, where: string): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      problems.push(`${where}: unknown transport option '${key}' (known: ${[...KNOWN_OPTIONS].join(', ')})`);
    }
  }
  const positiveInt = (key: keyof TransportOptions, min: number) => {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value >= min)) {
      problems.push(`${where}: transport.${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
  };
  positiveInt('connections', 1);
  positiveInt('pipelining', 1);
  positiveInt('keepAliveTimeout', 1);
  positiveInt('connectTimeout', 1);
  positiveInt('idleTimeout', 1);
  if (options.http2 !== undefined && typeof options.http2 !== 'boolean') {
    problems.push(`${where}: transport.http2 must be true or false`);
  }
  if (options.tls !== undefined && (options.tls === null || typeof options.tls !== 'object')) {
    problems.push(`${where}: transport.tls must be an object such as tlsFromFiles({ ca: 'ca.pem' })`);
  } else {
    for (const problem of unknownOptions('transport.tls', options.tls, TLS_KEYS))
      problems.push(`${where}: ${problem.replace('transport.tls()', 'transport.tls')}`);
  }
  return problems;
}

/**
 * Problems with the settings a service ends up with (mesh-wide merged with its own): HTTP/2 is
 * negotiated with TLS (ALPN), so asking for it without TLS would silently fall back to HTTP/1.1.
 */
export function validateEffectiveTransport(options: TransportOptions, where: string): string[] {
  if (options.http2 === true && options.tls === undefined) {
    return [
      `${where}: transport.http2 needs TLS, because HTTP/2 is negotiated during the TLS handshake; ` +
        'add transport({ tls: ... }) or drop http2',
    ];
  }
  return [];
}
