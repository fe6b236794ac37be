import type { PeerCertificate } from 'node:tls';
import { ErrorCode, TrellisError } from '../core/errors.js';

const SPIFFE_ID = /^spiffe:\/\/[a-z0-9.-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/;

/** True for a syntactically valid SPIFFE ID (`spiffe://trust-domain/path`). */
export function isSpiffeId(value: string): boolean {
  return SPIFFE_ID.test(value) && value.length <= 2048;
}

/**
 * The identities a certificate carries: its URI SANs (SPIFFE IDs are URIs) and DNS SANs, in the
 * order the certificate lists them. The subject CN is not an identity: modern verifiers ignore it.
 */
export function certificateIdentities(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): string[] {
  const san = cert?.subjectaltname;
  if (!san) return [];
  const identities: string[] = [];
  for (const entry of san.split(', ')) {
    if (entry.startsWith('URI:')) identities.push(entry.slice(4));
    else if (entry.startsWith('DNS:')) identities.push(entry.slice(4).toLowerCase());
  }
  return identities;
}

/**
 * Checks identities given in configuration: SPIFFE IDs or DNS names. Returns one sentence per
 * problem.
 */
export function validateIdentities(identities: readonly string[], where: string): string[] {
  if (identities.length === 0) return [`${where}: list at least one expected identity`];
  return identities
    .filter(
      (id) => typeof id !== 'string' || !(isSpiffeId(id) || /^[a-z0-9*]([a-z0-9.-]*[a-z0-9])?$/i.test(id)),
    )
    .map((id) => `${where}: '${String(id)}' is neither a SPIFFE ID (spiffe://domain/path) nor a DNS name`);
}

/**
 * A `checkServerIdentity` for `node:tls` that accepts a peer when its certificate carries one of
 * the expected service identities, instead of matching the host name. Mesh endpoints are dialled
 * by IP address, so the service identity, not the address, is what proves who answered.
 *
 * The chain itself is still verified against the configured CA by `node:tls` before this runs.
 */
export function expectPeerIdentity(
  expected: readonly string[],
): (host: string, cert: PeerCertificate) => Error | undefined {
  const wanted = new Set(expected.map((id) => (isSpiffeId(id) ? id : id.toLowerCase())));
  return (host, cert) => {
    const presented = certificateIdentities(cert);
    if (presented.some((id) => wanted.has(id))) return undefined;
    return new TrellisError(
      ErrorCode.TlsFailed,
      `The server at ${host} presented identities [${presented.join(', ') || 'none'}], none of which is expected ` +
        `([${[...wanted].join(', ')}]). Check that the endpoint belongs to this service, or update the expected identity.`,
      { details: { host, presented, expected: [...wanted] } },
    );
  };
}
