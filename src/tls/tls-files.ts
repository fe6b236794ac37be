import { readFileSync } from 'node:fs';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { optionKeys, refuseUnknownOptions } from '../core/validate.js';
import type { TransportTls } from '../transport/transport-options.js';

/** Paths of PEM files for {@link tlsFromFiles}. */
export interface TlsFiles {
  /** CA bundle that signs the upstreams' certificates. */
  ca?: string;
  /** Client certificate chain, for mutual TLS. */
  cert?: string;
  /** Client private key, for mutual TLS. */
  key?: string;
  /** SNI and verification name; defaults to the endpoint host. */
  servername?: string;
}

const TLS_FILES_KEYS = optionKeys<TlsFiles>({ ca: true, cert: true, key: true, servername: true });

function readPem(path: string, what: string): Buffer {
  try {
    const pem = readFileSync(path);
    if (!pem.includes('-----BEGIN ')) throw new Error('the file holds no PEM block');
    return pem;
  } catch (err) {
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      `Cannot use ${what} '${path}': ${(err as Error).message}.`,
      {
        cause: err,
        details: { path },
      },
    );
  }
}

/**
 * Reads PEM files into transport TLS settings, for `transport({ tls })`.
 *
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` when a file is missing or holds no PEM;
 * also when only one of `cert` and `key` is given, or for an unknown key.
 */
export function tlsFromFiles(files: TlsFiles): TransportTls {
  refuseUnknownOptions('tlsFromFiles', files, TLS_FILES_KEYS);
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      'Mutual TLS needs both `cert` and `key`; give both or neither.',
    );
  }
  const tls: TransportTls = {};
  if (files.ca !== undefined) tls.ca = readPem(files.ca, 'CA file');
  if (files.cert !== undefined) tls.cert = readPem(files.cert, 'certificate file');
  if (files.key !== undefined) tls.key = readPem(files.key, 'key file');
  if (files.servername !== undefined) tls.servername = files.servername;
  return tls;
}
