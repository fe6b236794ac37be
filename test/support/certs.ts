import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM material for one test PKI: a CA, and leaf certificates it signed. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly caCertPath: string;
  /** Issues a leaf certificate with the given SANs (e.g. `URI:spiffe://td/users`, `IP:127.0.0.1`). */
  issue(name: string, sans: string[], options?: { days?: number; ca?: 'own' | 'foreign' }): TestLeaf;
  cleanup(): void;
}

/** One issued certificate and its key, in memory and on disk. */
export interface TestLeaf {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-sha256',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

/** Creates a throw-away PKI with real openssl-generated keys and certificates. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pki-'));
  makeCa(dir, 'ca');
  let foreignMade = false;
  return {
    dir,
    caCert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    caCertPath: join(dir, 'ca.crt'),
    issue(name, sans, options = {}) {
      const ca = options.ca === 'foreign' ? 'foreign-ca' : 'ca';
      if (ca === 'foreign-ca' && !foreignMade) {
        makeCa(dir, 'foreign-ca');
        foreignMade = true;
      }
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
      openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], dir);
      writeFileSync(
        join(dir, `${name}.ext`),
        `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          `${ca}.crt`,
          '-CAkey',
          `${ca}.key`,
          '-CAcreateserial',
          '-days',
          String(options.days ?? 1),
          '-sha256',
          '-extfile',
          `${name}.ext`,
          '-out',
          `${name}.crt`,
        ],
        dir,
      );
      return {
        cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
        key: readFileSync(join(dir, `${name}.key`), 'utf8'),
        certPath: join(dir, `${name}.crt`),
        keyPath: join(dir, `${name}.key`),
      };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
