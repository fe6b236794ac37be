import { readFile } from 'node:fs/promises';
import { Agent, type Dispatcher } from 'undici';
import { ErrorCode, TrellisError } from '../../core/errors.js';
import { optionKeys, unknownOptions } from '../../core/validate.js';
import { GroupedRecords } from '../grouped-records.js';
import { reconnectBackoff } from '../reconnect-backoff.js';
import { reconnectLoop } from '../reconnect-loop.js';
import type { Resolver, ResolverSink } from '../resolver.js';
import { type UpdatePolicy, validateUpdatePolicy } from '../update-guard.js';
import { parseEndpointSlice, parseWatchEvent } from './endpoint-slice.js';

/** Options for {@link kubernetesEndpoints}. */
export interface KubernetesEndpointsOptions {
  /** API server URL, e.g. `'https://kubernetes.default.svc'`. */
  apiServer: string;
  /** Namespace of the Service. */
  namespace: string;
  /**
   * Kubernetes Service name.
   *
   * @defaultValue the mesh's service name
   */
  service?: string;
  /** Port name to use when the slices list several ports. */
  port?: string;
  /** Bearer token. */
  token?: string;
  /** File to read the bearer token from before each request (in-cluster tokens rotate). */
  tokenFile?: string;
  /**
   * Server-side watch timeout, in seconds, after which the watch is reopened.
   *
   * @defaultValue 300
   */
  watchTimeoutSeconds?: number;
  /**
   * Longest delay between retries after failures, in ms (starts at 250 and doubles).
   *
   * @defaultValue 10000
   */
  maxBackoffMs?: number;
  /** undici dispatcher (the cluster CA goes here); not closed by the resolver. */
  dispatcher?: Dispatcher;
  /** Debounce and empty-set grace. */
  updates?: UpdatePolicy;
}

class Gone extends Error {
  constructor() {
    super('the Kubernetes API answered 410 Gone');
  }
}

const KUBERNETES_KEYS = optionKeys<KubernetesEndpointsOptions>({
  apiServer: true,
  namespace: true,
  service: true,
  port: true,
  token: true,
  tokenFile: true,
  watchTimeoutSeconds: true,
  maxBackoffMs: true,
  dispatcher: true,
  updates: true,
});

/**
 * Ready endpoints of a Kubernetes Service from its `discovery.k8s.io/v1` EndpointSlices: lists
 * the slices labelled `kubernetes.io/service-name=<service>`, then watches them from the list's
 * `resourceVersion` (with bookmarks), reopening the watch where it left off and relisting when
 * the server answers 410 Gone. Zones and zone hints are kept (see `parseEndpointSlice` in kubernetes/endpoint-slice.ts).
 * Malformed slices are reported and the last good set stays in use.
 *
 * @example
 * ```ts
 * s.discovery(kubernetesEndpoints({
 *   apiServer: 'https://kubernetes.default.svc',
 *   namespace: 'shop',
 *   port: 'http',
 *   tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
 * }))
 * ```
 */
export function kubernetesEndpoints(options: KubernetesEndpointsOptions): Resolver {
  return {
    description: `kubernetes(${options.namespace}/${options.service ?? '<service>'})`,
    updatePolicy: options.updates,
    validate() {
      const problems = [
        ...unknownOptions('kubernetesEndpoints', options, KUBERNETES_KEYS),
        ...validateUpdatePolicy(options.updates),
      ];
      if (typeof options.apiServer !== 'string' || !/^https?:\/\/[^/]+\/?$/.test(options.apiServer)) {
        problems.push(
          `apiServer must be a URL like 'https://kubernetes.default.svc', not ${JSON.stringify(options.apiServer)}`,
        );
      }
      if (
        typeof options.namespace !== 'string' ||
        !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace)
      ) {
        problems.push('namespace must be a Kubernetes namespace name');
      }
      const timeout = options.watchTimeoutSeconds;
      if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 1)) {
        problems.push('watchTimeoutSeconds must be an integer >= 1');
      }
      return problems;
    },
    resolve(sink: ResolverSink, meshService: string) {
      const service = options.service ?? meshService;
      const origin = options.apiServer.replace(/\/+$/, '');
      const dispatcher = options.dispatcher ?? new Agent();
      const abort = new AbortController();
      const basePath =
        `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/endpointslices` +
        `?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`;
      // Each slice is a group: a watch event costs what its slice costs, not the whole service.
      const slices = new GroupedRecords(sink);
      let resourceVersion: string | undefined;
      const backoff = reconnectBackoff(250, options.maxBackoffMs ?? 10_000);

      const get = async (path: string, timeoutMs: number): Promise<Dispatcher.ResponseData> => {
        const headers: Record<string, string> = { accept: 'application/json' };
        const token = options.tokenFile ? (await readFile(options.tokenFile, 'utf8')).trim() : options.token;
        if (token) headers.authorization = `Bearer ${token}`;
        const response = await dispatcher.request({
          origin,
          path,
          method: 'GET',
          headers,
          signal: abort.signal,
          headersTimeout: 30_000,
          bodyTimeout: timeoutMs,
        });
        if (response.statusCode === 410) {
          await response.body.dump();
          throw new Gone();
        }
        if (response.statusCode !== 200) {
          const text = await response.body.text();
          throw new TrellisError(
            ErrorCode.DiscoveryFailed,
            `The Kubernetes API answered ${response.statusCode} for EndpointSlices of ${options.namespace}/${service}: ` +
              `${text.slice(0, 200)}. Check the API server URL and that the token may list and watch endpointslices.`,
            { details: { status: response.statusCode } },
          );
        }
        return response;
      };

      const list = async (): Promise<void> => {
        const response = await get(basePath, 30_000);
        const text = await response.body.text();
        let body: { metadata?: { resourceVersion?: unknown }; items?: unknown };
        try {
          body = JSON.parse(text);
        } catch {
          throw new TrellisError(
            ErrorCode.InvalidDiscoveryData,
            `The Kubernetes API list answer is not JSON: ${text.slice(0, 100)}`,
          );
        }
        const version = body?.metadata?.resourceVersion;
        if (typeof version !== 'string' || !Array.isArray(body.items)) {
          throw new TrellisError(
            ErrorCode.InvalidDiscoveryData,
            'The Kubernetes API list answer has no metadata.resourceVersion or items: expected an EndpointSliceList.',
          );
        }
        const parsed = body.items.map((item) => parseEndpointSlice(item, options.port));
        resourceVersion = version;
        slices.replaceAll(parsed.map((slice) => [slice.name, slice.endpoints] as const));
      };

      const watch = async (): Promise<void> => {
        const timeoutSeconds = options.watchTimeoutSeconds ?? 300;
        const path =
          `${basePath}&watch=true&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}` +
          `&resourceVersion=${encodeURIComponent(resourceVersion!)}`;
        const response = await get(path, (timeoutSeconds + 30) * 1000);
        let buffered = '';
        try {
          for await (const chunk of response.body) {
            buffered += (chunk as Buffer).toString('utf8');
            let newline = buffered.indexOf('\n');
            while (newline >= 0) {
              const line = buffered.slice(0, newline).trim();
              buffered = buffered.slice(newline + 1);
              newline = buffered.indexOf('\n');
              if (line === '') continue;
              const event = parseWatchEvent(line);
              if (event.type === 'ERROR') {
                if (event.code === 410) throw new Gone();
                throw new TrellisError(
                  ErrorCode.DiscoveryFailed,
                  `The Kubernetes watch failed: ${event.message}.`,
                );
              }
              resourceVersion = event.resourceVersion;
              backoff.reset();
              if (event.type === 'BOOKMARK') continue;
              if (event.type === 'DELETED') {
                const name = (event.object as { metadata?: { name?: unknown } }).metadata?.name;
                if (typeof name === 'string') slices.replaceGroup(name, []);
              } else {
                try {
                  const slice = parseEndpointSlice(event.object, options.port);
                  slices.replaceGroup(slice.name, slice.endpoints);
                } catch (err) {
                  // Skip the bad version of this slice (the watch moves past it); its last good
                  // endpoints stay until a valid version or a deletion arrives.
                  sink.error(err as Error);
                }
              }
            }
          }
        } finally {
          response.body.destroy();
        }
      };

      const running = reconnectLoop(
        abort.signal,
        backoff,
        (err) => sink.error(err),
        async () => {
          try {
            if (resourceVersion === undefined) await list();
            await watch();
          } catch (err) {
            if (!(err instanceof Gone) || resourceVersion === undefined) throw err;
            resourceVersion = undefined; // the watch's history expired: relist at once
          }
          return 0;
        },
      );
      return {
        async close() {
          abort.abort();
          await running;
          if (!options.dispatcher) await dispatcher.close();
        },
      };
    },
  };
}
