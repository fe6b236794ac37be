import type { IncomingMessage } from 'node:http';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import { optionKeys, refuseUnknownOptions } from '../core/validate.js';
import { certificateIdentities } from './identity.js';

/** Settings for {@link serverTlsOptions}. */
export interface ServerTlsSettings {
  /** CA bundle that signs the clients' certificates. */
  ca: SecureContextOptions['ca'];
  /** The server's certificate chain. */
  cert: SecureContextOptions['cert'];
  /** The server's private key. */
  key: SecureContextOptions['key'];
}

const SERVER_TLS_KEYS = optionKeys<ServerTlsSettings>({ ca: true, cert: true, key: true });

/**
 * Options for `https.createServer` (or `http2.createSecureServer`) that require every client to
 * present a certificate signed by `ca`: the server half of mutual TLS. Decide what each client may
 * do with {@link peerIdentities}.
 *
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` for an unknown key.
 */
export function serverTlsOptions(settings: ServerTlsSettings): TlsOptions {
  refuseUnknownOptions('serverTlsOptions', settings, SERVER_TLS_KEYS);
  return {
    ca: settings.ca,
    cert: settings.cert,
    key: settings.key,
    requestCert: true,
    rejectUnauthorized: true,
  };
}

/**
 * The verified identities (SPIFFE IDs and DNS names from the SANs) of the client that sent a
 * request over mutual TLS; empty when the connection is not authenticated.
 */
export function peerIdentities(request: Pick<IncomingMessage, 'socket'>): string[] {
  const socket = request.socket as Partial<TLSSocket>;
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return [];
  return certificateIdentities(socket.getPeerCertificate());
}
