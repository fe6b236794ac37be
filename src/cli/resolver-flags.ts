import { fileEndpoints } from '../discovery/file/file-resolver.js';
import type { Resolver } from '../discovery/resolver.js';
import { staticEndpoints } from '../discovery/static.js';
import { UsageError } from './usage.js';

/** Command-line flags that choose a resolver. */
export interface ResolverFlags {
  file?: string | undefined;
  static?: string | undefined;
}

/** The resolver the flags describe; exactly one discovery flag must be given. */
export function resolverFromFlags(flags: ResolverFlags): Resolver {
  const given = [flags.file !== undefined, flags.static !== undefined].filter(Boolean).length;
  if (given !== 1)
    throw new UsageError('give exactly one discovery source: --file <path> or --static <host:port,...>');
  if (flags.file !== undefined) return fileEndpoints(flags.file);
  return staticEndpoints(flags.static!.split(',').map((entry) => entry.trim()));
}
