import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { removeOnExit } from './cleanup.js';

type KeyPair = webcrypto.CryptoKeyPair;

// The library types its provider with the DOM's Crypto, which Node's webcrypto implements.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** PEM material for one test PKI: a CA, and leaf certificates it signed. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly caCertPath: string;
  /** Issues a leaf certificate with the given SANs (e.g. `URI:spiffe://td/users`, `IP:127.0.0.1`, `DNS:x`). */
  issue(name: string, sans: string[], options?: IssueOptions): Promise<TestLeaf>;
  cleanup(): void;
}

/** How {@link TestPki.issue} makes a leaf; by default a valid one for both server and client use. */
export interface IssueOptions {
  /** Days it is valid for; 1 by default. */
  days?: number;
  /** Signed by the PKI's own CA, or by a second CA nobody trusts. */
  ca?: 'own' | 'foreign';
  /** Its extended key usages; both `serverAuth` and `clientAuth` by default. */
  purposes?: ReadonlyArray<'serverAuth' | 'clientAuth'>;
  /** Already expired (valid until a minute ago). */
  expired?: boolean;
}

/** One issued certificate and its key, in memory and on disk. */
export interface TestLeaf {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

interface Authority {
  readonly keys: KeyPair;
  readonly cert: x509.X509Certificate;
}

const SAN_TYPES: Record<string, x509.GeneralNameType> = { URI: 'url', IP: 'ip', DNS: 'dns' };

function generalName(san: string): x509.JsonGeneralName {
  const colon = san.indexOf(':');
  const type = SAN_TYPES[san.slice(0, colon)];
  if (!type) throw new Error(`test PKI: unsupported SAN "${san}" (write URI:, IP: or DNS:)`);
  return { type, value: san.slice(colon + 1) };
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex');
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function makeCa(name: string): Promise<Authority> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as KeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 2 * DAY_MS),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keys, cert };
}

/**
 * Creates a throw-away PKI in-process (ECDSA P-256 keys and X.509 certificates made with
 * `@peculiar/x509` on Node's webcrypto; no openssl binary needed). Files live in a temporary
 * folder that `cleanup()` removes, and that is removed at process exit if a test forgot to.
 */
export async function createTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pki-'));
  removeOnExit(dir);
  const ca = await makeCa('ca');
  let foreign: Authority | undefined;
  const caCert = ca.cert.toString('pem');
  const caCertPath = join(dir, 'ca.crt');
  writeFileSync(caCertPath, caCert);

  return {
    dir,
    caCert,
    caCertPath,
    async issue(name, sans, options = {}) {
      if (options.ca === 'foreign') foreign ??= await makeCa('foreign-ca');
      const issuer = options.ca === 'foreign' ? foreign! : ca;
      const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as KeyPair;
      const now = Date.now();
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${name}`,
        issuer: issuer.cert.subject,
        notBefore: new Date(now - (options.expired ? DAY_MS : 60_000)),
        notAfter: new Date(options.expired ? now - 60_000 : now + (options.days ?? 1) * DAY_MS),
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
        signingAlgorithm: EC_P256,
        extensions: [
          new x509.SubjectAlternativeNameExtension(sans.map(generalName)),
          new x509.ExtendedKeyUsageExtension(
            (options.purposes ?? ['serverAuth', 'clientAuth']).map((p) => x509.ExtendedKeyUsage[p]),
          ),
          await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
        ],
      });
      const cert = leaf.toString('pem');
      const key = await keyPem(keys.privateKey);
      const certPath = join(dir, `${name}.crt`);
      const keyPath = join(dir, `${name}.key`);
      writeFileSync(certPath, cert);
      writeFileSync(keyPath, key, { mode: 0o600 });
      return { cert, key, certPath, keyPath };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
