import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { optionKeys, unknownOptions } from '../core/validate.js';
import type { AdminSource } from './admin-source.js';
import { DASHBOARD_PAGE } from './dashboard-page.js';
import { GoldenWindow } from './golden-window.js';
import { MeshChangeLog } from './mesh-change-log.js';
import { servicesView } from './services-view.js';
import { parseTapFilter } from './tap-filter.js';
import { DEFAULT_TAP_LIMITS, type TapCounts, TapHub, type TapLimits } from './tap-stream.js';

/** Options for `mesh.adminHandler()` (and `mesh.admin()`). */
export interface AdminHandlerOptions {
  /** Per-client limits of `/tap` (queue size, events per second). */
  tap?: Partial<TapLimits>;
}

const TAP_KEYS = optionKeys<TapLimits>({ buffer: true, maxPerSecond: true });

/**
 * Refuses admin options with keys it does not know, `tap`'s included: `known` are the keys of
 * the call's options (`mesh.admin()` takes more than `mesh.adminHandler()`).
 *
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` listing each unknown key and the known ones.
 */
export function refuseUnknownAdminOptions(
  call: string,
  options: AdminHandlerOptions,
  known: readonly string[],
): void {
  const problems = unknownOptions(call, options, known);
  if (problems.length === 0) problems.push(...unknownOptions(`${call} tap`, options?.tap, TAP_KEYS));
  if (problems.length > 0)
    throw new TrellisError(ErrorCode.InvalidConfig, `Invalid options: ${problems.join('; ')}.`, {
      details: { problems },
    });
}

/** The keys of {@link AdminHandlerOptions}. */
export const ADMIN_HANDLER_KEYS = optionKeys<AdminHandlerOptions>({ tap: true });

/**
 * The admin endpoint as a Node request handler, to mount in a server of your own
 * (`http.createServer(handler)`, or under a prefix in express: `app.use('/admin', handler)`).
 * It answers `GET /` (dashboard), `/metrics`, `/ready`, `/live`, `/services` and `/tap`.
 * It shows request paths: serve it only where the people who can reach it may see them.
 */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** What the tap has done (clients, drops, sampling, cuts). */
  readonly tap: TapCounts;
  /** Stops the handler's timer and ends its tap streams. */
  close(): void;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
}

/** Builds the admin handler for a mesh (see `Mesh.adminHandler`). */
export function createAdminHandler(source: AdminSource, options: AdminHandlerOptions = {}): AdminHandler {
  const metrics = source.metrics;
  const window = metrics && new GoldenWindow(metrics, () => source.services);
  const changes = new MeshChangeLog(source.events);
  const hub = metrics && new TapHub(metrics.completions, { ...DEFAULT_TAP_LIMITS, ...options.tap });
  const noMetrics = (res: ServerResponse) =>
    send(
      res,
      404,
      'text/plain; charset=utf-8',
      'This mesh has no metrics layer: build it with .stack(metrics({ registry }).install) to get /metrics and /tap.\n',
    );

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void> =
    {
      '/': (_req, res) => send(res, 200, 'text/html; charset=utf-8', DASHBOARD_PAGE),
      '/live': (_req, res) => json(res, source.open ? 200 : 503, { live: source.open }),
      '/ready': (_req, res) => {
        const waiting = source.services.filter((s) => !source.snapshot(s).some((e) => e.state === 'active'));
        const ready = source.open && waiting.length === 0;
        json(res, ready ? 200 : 503, { ready, waiting });
      },
      '/services': (_req, res) =>
        json(res, 200, servicesView(source, window, changes, hub ? { ...hub.counts } : null)),
      '/metrics': (_req, res) => {
        if (metrics === undefined) return noMetrics(res);
        metrics.registry.metrics().then(
          (text) => send(res, 200, metrics.registry.contentType, text),
          (err: Error) =>
            send(res, 500, 'text/plain; charset=utf-8', `Collecting the metrics failed: ${err.message}\n`),
        );
      },
      '/tap': (_req, res, query) => {
        if (hub === undefined) return noMetrics(res);
        const filter = parseTapFilter(query);
        if (typeof filter === 'string')
          return send(res, 400, 'text/plain; charset=utf-8', `Bad /tap query: ${filter}.\n`);
        hub.attach(res, filter);
      },
    };

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = routes[url.pathname];
    if (route === undefined) {
      json(res, 404, { error: `No admin page at ${url.pathname}`, pages: Object.keys(routes) });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      json(res, 405, { error: 'The admin endpoint only answers GET.' });
      return;
    }
    route(req, res, url.searchParams);
  }) as AdminHandler;
  Object.defineProperty(handler, 'tap', {
    get: () => ({ ...(hub?.counts ?? { clients: 0, dropped: 0, sampled: 0, cut: 0 }) }),
  });
  handler.close = () => {
    window?.close();
    changes.close();
    hub?.close();
  };
  return handler;
}
