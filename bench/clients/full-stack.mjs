// trellis clients for the issue-4 full-stack benchmark (scenarios/full-stack.mjs). Each builds the
// mesh's *default* stack, whatever it contains on the branch being measured, and adds or removes
// layers by name, so the figures follow the default stack as other layers land.
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { Registry } from 'prom-client';
import {
  adaptiveConcurrency,
  adaptiveThrottle,
  BREAKER_LAYER,
  GradientLimit,
  rateLimit,
} from 'trellis/resilience';
import { metrics } from 'trellis/telemetry';
import { benchMesh, SERVICE } from './mesh.mjs';

function client(mesh, path, timeoutMs) {
  const options =
    timeoutMs === undefined ? { service: SERVICE, path } : { service: SERVICE, path, timeout: timeoutMs };
  return {
    async request() {
      const { statusCode, body } = await mesh.request(options);
      await body.text();
      return statusCode;
    },
    close: () => mesh.close(),
  };
}

/** The default stack as it is, plus a per-request timeout when `options.timeoutMs` is set. */
export async function meshDefaultStack({ targets, path, concurrency, options }) {
  return client(benchMesh(targets, concurrency), path, options.timeoutMs);
}

/** The default stack without its circuit breaker (to isolate the breaker's cost). */
export async function meshWithoutBreaker({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, concurrency, (s) => s.stack((st) => st.remove(BREAKER_LAYER)));
  return client(mesh, path, options.timeoutMs);
}

/** For comparison only: the breaker layer replaced by one that calls opossum's `fire()` per request. */
export async function meshOpossumFire({ targets, path, concurrency, options }) {
  const rotation = new EventEmitter();
  const fireBreaker = {
    name: BREAKER_LAYER,
    wrap(next, service) {
      const breaker = new CircuitBreaker(next, {
        timeout: false,
        volumeThreshold: 20,
        resetTimeout: 5_000,
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
        rotateBucketController: rotation,
      });
      service.onClose(() => breaker.shutdown());
      return (ctx) => breaker.fire(ctx);
    },
  };
  const mesh = benchMesh(targets, concurrency, (s) => s.layer(fireBreaker));
  return client(mesh, path, options.timeoutMs);
}

/** The default stack plus the Prometheus metrics layer on top (the "full default stack"). */
export async function meshFullStack({ targets, path, concurrency, options }) {
  const registry = new Registry();
  const mesh = benchMesh(targets, concurrency, (s) => s.stack(metrics({ registry }).install));
  return client(mesh, path, options.timeoutMs);
}

/**
 * The full stack plus every opt-in limit, set so none rejects: rate limit, adaptive throttle and
 * adaptive (gradient) concurrency limit.
 */
export async function meshFullStackWithLimits({ targets, path, concurrency, options }) {
  const registry = new Registry();
  const mesh = benchMesh(targets, concurrency, (s) =>
    s.stack((st) =>
      metrics({ registry })
        .install(st)
        .insertBefore('balance', rateLimit({ ratePerSecond: 1e9 }))
        .insertBefore('balance', adaptiveThrottle())
        .insertBefore(
          'balance',
          adaptiveConcurrency({ limit: () => new GradientLimit({ initialLimit: 256, maxLimit: 1024 }) }),
        ),
    ),
  );
  return client(mesh, path, options.timeoutMs);
}
