/**
 * TLS to upstream endpoints: trust roots, mutual TLS with service identity, and the server half
 * for services that accept mesh traffic.
 *
 * @packageDocumentation
 */
export type { TransportTls } from '../transport/transport-options.js';
export { certificateIdentities, expectPeerIdentity } from './identity.js';
export { type MutualTlsOptions, mutualTls } from './mutual-tls.js';
export { peerIdentities, type ServerTlsSettings, serverTlsOptions } from './server-tls.js';
export { type TlsFiles, tlsFromFiles } from './tls-files.js';
