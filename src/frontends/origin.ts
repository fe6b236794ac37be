/**
 * Which origins address a mesh service. A service is reached by its name or a claimed host, each
 * optionally with a port (`users`, `users.internal`, `127.0.0.1:9000`). A claim without a port
 * matches that host on the scheme's default port only (`http://users` and `https://users`, not
 * `http://users:8080`); a claim with a port matches that host and port under either scheme. So a
 * claim never captures every port of a host.
 *
 * Claims that would shadow real addresses of this machine are refused at `build()`: `localhost`
 * and IP literals must name a port (the one address the mesh takes over), and link-local
 * addresses (`169.254.0.0/16`, where cloud metadata services answer) can never be claimed.
 */

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** An origin the dispatcher was asked to reach, reduced to what routing needs. */
export interface OriginTarget {
  /** `host:port`, the port the scheme implies when the origin names none (`users:80`). */
  readonly key: string;
  /** True for `https:`: the caller asked for TLS. */
  readonly https: boolean;
}

/** The routing key of an `http:` or `https:` origin or URL; undefined for anything else. */
export function originTarget(origin: string | URL): OriginTarget | undefined {
  let url: URL;
  try {
    url = typeof origin === 'string' ? new URL(origin) : origin;
  } catch {
    return undefined;
  }
  const port = url.port || DEFAULT_PORTS[url.protocol];
  if (port === undefined) return undefined;
  return { key: `${url.hostname}:${port}`, https: url.protocol === 'https:' };
}

/** The `host:port` keys a claim (a service name or claimed host) matches. */
export function claimKeys(claim: string): string[] {
  const lower = claim.toLowerCase();
  return lower.includes(':') ? [lower] : [`${lower}:80`, `${lower}:443`];
}

/** Why a service name or claimed host cannot be claimed, or undefined when it can. */
export function claimProblem(claim: unknown): string | undefined {
  if (typeof claim !== 'string') return `'${String(claim)}' is not a host name`;
  const colon = claim.lastIndexOf(':');
  const host = colon < 0 ? claim : claim.slice(0, colon);
  const port = colon < 0 ? undefined : Number(claim.slice(colon + 1));
  if (!HOST_NAME.test(host)) {
    return `'${claim}' is not a valid host name (lower-case letters, digits, '-' and '.')`;
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65_535)) {
    return `'${claim}' has an invalid port: use 1 to 65535`;
  }
  if (IPV4.test(host) && host.startsWith('169.254.')) {
    return `'${claim}' is a link-local address (cloud metadata services answer there): it cannot be claimed`;
  }
  const local = host === 'localhost' || host.endsWith('.localhost');
  if ((local || IPV4.test(host)) && port === undefined) {
    return (
      `'${claim}' would shadow a real address on every default port: ` +
      `claim one address with its port (for example '${host}:9000')`
    );
  }
  return undefined;
}
