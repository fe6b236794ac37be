import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import { ErrorCode, TrellisError } from '../../core/errors.js';
import { optionKeys, unknownOptions } from '../../core/validate.js';
import type { Resolver, ResolverSink } from '../resolver.js';
import { type UpdatePolicy, validateUpdatePolicy } from '../update-guard.js';
import { parseEndpointFile } from './file-format.js';

/** Options for {@link fileEndpoints}. */
export interface FileEndpointsOptions {
  /**
   * Entry to read in a `{"services": {...}}` file.
   *
   * @defaultValue the mesh's service name
   */
  service?: string;
  /**
   * Re-read the file at this interval too, in ms, for file systems where change notifications are
   * unreliable (network mounts, some containers). Default 0: notifications only.
   */
  pollMs?: number;
  /** Debounce and empty-set grace. */
  updates?: UpdatePolicy;
}

const FILE_KEYS = optionKeys<FileEndpointsOptions>({ service: true, pollMs: true, updates: true });

/**
 * Endpoints from a JSON file that is watched for changes: for platform teams that render a file
 * from their inventory, and for local development. The directory is watched, so files replaced
 * atomically (write a temporary file, then rename) are picked up. A file that is missing,
 * unreadable or malformed is reported and the last good set stays in use.
 *
 * See `parseEndpointFile` (file/file-format.ts) for the format.
 *
 * @example
 * ```ts
 * s.discovery(fileEndpoints('/etc/trellis/endpoints.json'))
 * ```
 */
export function fileEndpoints(path: string, options: FileEndpointsOptions = {}): Resolver {
  const absolute = resolvePath(path);
  return {
    description: `file(${path})`,
    updatePolicy: options.updates,
    validate() {
      const problems = [
        ...unknownOptions('fileEndpoints', options, FILE_KEYS),
        ...validateUpdatePolicy(options.updates),
      ];
      if (typeof path !== 'string' || path === '') problems.push('fileEndpoints() needs a file path');
      const poll = options.pollMs;
      if (poll !== undefined && !(Number.isFinite(poll) && poll >= 0)) {
        problems.push('pollMs must be a number of milliseconds >= 0');
      }
      return problems;
    },
    resolve(sink: ResolverSink, service: string) {
      const key = options.service ?? service;
      let closed = false;
      let reading = false;
      let again = false;
      let lastText: string | undefined;

      // Reads are serialized; a change seen during a read triggers one more read after it.
      const read = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            let text: string;
            try {
              text = await readFile(absolute, 'utf8');
            } catch (err) {
              if (!closed) sink.error(unreadable(absolute, err as Error));
              continue;
            }
            if (closed || text === lastText) continue;
            try {
              const endpoints = parseEndpointFile(text, key, absolute);
              lastText = text;
              sink.update(endpoints);
            } catch (err) {
              sink.error(err as Error);
            }
          } while (again && !closed);
        } finally {
          reading = false;
        }
      };

      const name = basename(absolute);
      let watcher: FSWatcher | undefined;
      try {
        watcher = watch(dirname(absolute), { persistent: false }, (_event, changed) => {
          if (!closed && (changed === null || changed === name)) void read();
        });
        watcher.on('error', (err) => sink.error(unreadable(absolute, err)));
      } catch (err) {
        sink.error(unreadable(absolute, err as Error));
      }
      const poller = options.pollMs ? setInterval(() => void read(), options.pollMs) : undefined;
      poller?.unref();
      const first = read();
      return {
        async close() {
          closed = true;
          watcher?.close();
          clearInterval(poller);
          await first;
        },
      };
    },
  };
}

function unreadable(path: string, err: Error): TrellisError {
  return new TrellisError(
    ErrorCode.DiscoveryFailed,
    `Cannot read endpoint file ${path}: ${err.message}. The last good set stays in use; fix the path or permissions.`,
    { cause: err, details: { path } },
  );
}
