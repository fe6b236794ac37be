import { createTestPki } from './certs.js';
import { startListener } from './listener-process.js';
import { fixture } from './processes.js';

/** A node:http2 secure upstream process (pipe-upstream.mjs in h2 mode) on 127.0.0.1. */
export interface H2Upstream {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** The CA its certificate is issued by, for the client's `tls.ca`. */
  readonly caCert: string;
  /** Stops the process and removes the certificates. */
  stop(): Promise<void>;
}

/** Starts an HTTP/2 upstream with a certificate for `IP:127.0.0.1` from a fresh test PKI. */
export async function startH2Upstream(): Promise<H2Upstream> {
  const pki = await createTestPki();
  const leaf = await pki.issue('secure', ['IP:127.0.0.1']);
  try {
    const server = await startListener(fixture('pipe-upstream.mjs'), ['h2', leaf.certPath, leaf.keyPath]);
    return {
      port: server.port,
      caCert: pki.caCert,
      stop: async () => {
        await server.stop();
        pki.cleanup();
      },
    };
  } catch (err) {
    pki.cleanup();
    throw err;
  }
}
