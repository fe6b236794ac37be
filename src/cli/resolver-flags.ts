import { consulEndpoints } from '../discovery/consul/consul-resolver.js';
import { dnsAddresses, dnsSrv } from '../discovery/dns/dns-resolver.js';
import { etcdEndpoints } from '../discovery/etcd/etcd-resolver.js';
import { fileEndpoints } from '../discovery/file/file-resolver.js';
import type { Resolver } from '../discovery/resolver.js';
import { staticEndpoints } from '../discovery/static.js';
import { UsageError } from './usage.js';

/** Command-line flags that choose a resolver. */
export interface ResolverFlags {
  file?: string | undefined;
  static?: string | undefined;
  etcd?: string | undefined;
  prefix?: string | undefined;
  'dns-srv'?: string | undefined;
  dns?: string | undefined;
  'dns-server'?: string | undefined;
  consul?: string | undefined;
}

const SOURCES = ['file', 'static', 'etcd', 'dns-srv', 'dns', 'consul'] as const;

function list(text: string): string[] {
  return text.split(',').map((entry) => entry.trim());
}

/** The resolver the flags describe; exactly one discovery flag must be given. */
export function resolverFromFlags(flags: ResolverFlags): Resolver {
  const given = SOURCES.filter((source) => flags[source] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(
      `give exactly one discovery source (${SOURCES.map((s) => `--${s}`).join(', ')}), got ${given.length}`,
    );
  }
  const dns = flags['dns-server'] === undefined ? {} : { servers: list(flags['dns-server']) };
  switch (given[0]) {
    case 'file':
      return fileEndpoints(flags.file!);
    case 'static':
      return staticEndpoints(list(flags.static!));
    case 'etcd':
      return etcdEndpoints({
        etcd: { endpoints: list(flags.etcd!) },
        ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      });
    case 'dns-srv':
      return dnsSrv(flags['dns-srv']!, dns);
    case 'dns': {
      const match = /^(.+):(\d+)$/.exec(flags.dns!);
      if (!match) throw new UsageError(`--dns wants <host>:<port>, got '${flags.dns}'`);
      return dnsAddresses(match[1]!, Number(match[2]), dns);
    }
    default:
      return consulEndpoints({ address: flags.consul! });
  }
}
