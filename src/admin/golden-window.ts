import { histogramQuantile, type LatencyHistogram } from '../telemetry/latency-histogram.js';
import type { MetricsLayerReadout } from '../telemetry/metrics-layer.js';
import { OUTCOMES, STATUS_CLASSES } from '../telemetry/outcome-class.js';
import type { RouteStats } from '../telemetry/service-stats.js';

/** Golden signals of a service or route over the last window. */
export interface GoldenSignals {
  /** Calls finished per second. */
  rps: number;
  /** Share of finished calls that succeeded (0 to 1); `null` with no calls. */
  successRate: number | null;
  /** Median time to headers, in ms; `null` with no calls. */
  p50Ms: number | null;
  /** 99th percentile time to headers, in ms; `null` with no calls. */
  p99Ms: number | null;
  /** Calls finished in the window. */
  requests: number;
}

/** Cumulative counts of one route at one moment. */
interface RoutePoint {
  requests: Float64Array;
  buckets: Float64Array;
}

interface Point {
  at: number;
  routes: Map<string, RoutePoint>;
}

const SUCCESS = OUTCOMES.indexOf('success');
const WINDOW_POINTS = 11;

function key(service: string, route: string): string {
  return `${service}\u0000${route}`;
}

function copyRoute(route: RouteStats): RoutePoint {
  return { requests: route.requests.slice(), buckets: route.headers.counts.slice() };
}

/**
 * Golden signals over a sliding window of about ten seconds: a sample of every route's
 * cumulative counts is taken each second (off the request path), and figures are the
 * difference between the newest and the oldest sample, so every viewer sees the same numbers
 * however often it polls.
 */
export class GoldenWindow {
  readonly #points: Point[] = [];
  readonly #metrics: MetricsLayerReadout;
  readonly #services: () => readonly string[];
  readonly #timer: NodeJS.Timeout;

  constructor(metrics: MetricsLayerReadout, services: () => readonly string[], intervalMs = 1000) {
    this.#metrics = metrics;
    this.#services = services;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  /** Takes a sample now (the timer does every second). */
  sample(): void {
    const routes = new Map<string, RoutePoint>();
    for (const service of this.#services()) {
      const stats = this.#metrics.stats(service);
      if (stats === undefined) continue;
      for (const route of stats.routes()) routes.set(key(service, route.route), copyRoute(route));
    }
    this.#points.push({ at: performance.now(), routes });
    if (this.#points.length > WINDOW_POINTS) this.#points.shift();
  }

  /** The signals of one route of a service (`''`: calls without a route) over the window. */
  route(service: string, route: RouteStats): GoldenSignals {
    const oldest = this.#points[0];
    const now = performance.now();
    const current = copyRoute(route);
    const before = oldest?.routes.get(key(service, route.route));
    const seconds = oldest === undefined ? 0 : (now - oldest.at) / 1000;
    return signals(current, before, seconds, route.headers);
  }

  /** The signals of a whole service (every route summed) over the window. */
  service(service: string): GoldenSignals {
    const stats = this.#metrics.stats(service);
    if (stats === undefined) return signals(undefined, undefined, 0, undefined);
    const oldest = this.#points[0];
    let sum: RoutePoint | undefined;
    let before: RoutePoint | undefined;
    for (const route of stats.routes()) {
      sum = add(sum, copyRoute(route));
      const old = oldest?.routes.get(key(service, route.route));
      if (old !== undefined) before = add(before, old);
    }
    const seconds = oldest === undefined ? 0 : (performance.now() - oldest.at) / 1000;
    return signals(sum, before, seconds, stats.unrouted.headers);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

function add(into: RoutePoint | undefined, point: RoutePoint): RoutePoint {
  if (into === undefined) return { requests: point.requests.slice(), buckets: point.buckets.slice() };
  for (let i = 0; i < point.requests.length; i++) into.requests[i]! += point.requests[i]!;
  for (let i = 0; i < point.buckets.length; i++) into.buckets[i]! += point.buckets[i]!;
  return into;
}

function signals(
  current: RoutePoint | undefined,
  before: RoutePoint | undefined,
  seconds: number,
  shape: LatencyHistogram | undefined,
): GoldenSignals {
  if (current === undefined || shape === undefined)
    return { rps: 0, successRate: null, p50Ms: null, p99Ms: null, requests: 0 };
  const requests = new Float64Array(current.requests.length);
  const buckets = new Float64Array(current.buckets.length);
  for (let i = 0; i < requests.length; i++) requests[i] = current.requests[i]! - (before?.requests[i] ?? 0);
  for (let i = 0; i < buckets.length; i++) buckets[i] = current.buckets[i]! - (before?.buckets[i] ?? 0);
  const total = requests.reduce((a, b) => a + b, 0);
  let ok = 0;
  for (let c = 0; c < STATUS_CLASSES.length; c++) ok += requests[SUCCESS * STATUS_CLASSES.length + c]!;
  return {
    rps: seconds > 0 ? total / seconds : 0,
    successRate: total > 0 ? ok / total : null,
    p50Ms: quantileMs(buckets, shape.bounds, 0.5),
    p99Ms: quantileMs(buckets, shape.bounds, 0.99),
    requests: total,
  };
}

function quantileMs(counts: Float64Array, bounds: Float64Array, q: number): number | null {
  const seconds = histogramQuantile(counts, bounds, q);
  return Number.isNaN(seconds) ? null : seconds * 1000;
}
