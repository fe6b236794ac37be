import { ErrorCode, TrellisError } from '../core/errors.js';
import { optionKeys, refuseUnknownOptions } from '../core/validate.js';
import type { TransportTls } from '../transport/transport-options.js';
import { expectPeerIdentity, validateIdentities } from './identity.js';

/** Settings for {@link mutualTls}. */
export interface MutualTlsOptions {
  /** CA bundle (PEM) that signs the upstreams' certificates. */
  ca: string | Buffer | Array<string | Buffer>;
  /** This client's certificate chain (PEM), presented to the upstream. */
  cert: string | Buffer;
  /** This client's private key (PEM). */
  key: string | Buffer;
  /**
   * The identities the upstream may present: SPIFFE IDs (`spiffe://prod.example/ns/users/sa/api`)
   * or DNS names. A peer whose certificate carries none of them is refused.
   */
  serverIdentity: string | readonly string[];
}

const MUTUAL_TLS_KEYS = optionKeys<MutualTlsOptions>({
  ca: true,
  cert: true,
  key: true,
  serverIdentity: true,
});

/**
 * Transport TLS for mutual TLS with service identity: the client proves who it is with its own
 * certificate, and accepts an upstream only if its certificate chains to `ca` and carries an
 * expected identity.
 *
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` for an unknown option key or a malformed
 *   expected identity.
 *
 * @example
 * ```ts
 * s.transport({ tls: mutualTls({ ca, cert, key, serverIdentity: 'spiffe://prod.example/users' }) })
 * ```
 */
export function mutualTls(options: MutualTlsOptions): TransportTls {
  refuseUnknownOptions('mutualTls', options, MUTUAL_TLS_KEYS);
  const expected =
    typeof options.serverIdentity === 'string' ? [options.serverIdentity] : options.serverIdentity;
  const problems = validateIdentities(expected, 'mutualTls serverIdentity');
  if (problems.length > 0) {
    throw new TrellisError(ErrorCode.InvalidConfig, problems.join('; '), { details: { problems } });
  }
  return {
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    connect: { checkServerIdentity: expectPeerIdentity(expected) },
  };
}
