// Clients for the resilience benchmarks (retry amplification, hedging). Same factory shape as
// bench/clients/*.mjs: `async ({ targets, path, concurrency, options }) => ({ request, close })`,
// where `request()` reads the body and resolves with the status code.
import pRetry from 'p-retry';
import { hedging } from 'trellis/resilience';
import { BalancedPool, interceptors } from 'undici';
import { benchMesh, SERVICE } from './mesh.mjs';

/** trellis with its default stack (deadline, retries with a 20% budget, no hedging) through `mesh.request()`. */
export async function meshDefault({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency);
  return {
    async request() {
      const { statusCode, body } = await mesh.request({ service: SERVICE, path });
      await body.dump();
      return statusCode;
    },
    close: () => mesh.close(),
  };
}

/** trellis with hedging on (`options.hedging`: hedging() options) on top of the default stack. */
export async function meshHedged({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency, (s) =>
    s.layer(hedging(options.hedging ?? {})),
  );
  return {
    async request() {
      const { statusCode, body } = await mesh.request({ service: SERVICE, path });
      await body.dump();
      return statusCode;
    },
    close: () => mesh.close(),
  };
}

class StatusError extends Error {
  constructor(statusCode) {
    super(`status ${statusCode}`);
    this.statusCode = statusCode;
  }
}

/**
 * What many services do by hand: p-retry (`options.retries`, 3 by default, backoff from 10 ms)
 * around undici's BalancedPool, retrying 5xx answers and errors, with no budget.
 */
export async function naivePRetry({ targets, path, concurrency, options }) {
  const pool = new BalancedPool(targets, { connections: concurrency });
  const attempt = async () => {
    const { statusCode, body } = await pool.request({ method: 'GET', path });
    await body.dump();
    if (statusCode >= 500) throw new StatusError(statusCode);
    return statusCode;
  };
  return {
    async request() {
      try {
        return await pRetry(attempt, { retries: options.retries ?? 3, minTimeout: 10 });
      } catch (err) {
        if (err instanceof StatusError) return err.statusCode;
        throw err;
      }
    },
    close: () => pool.close(),
  };
}

/** undici's retry interceptor (`options.retries`, 3 by default, backoff from 10 ms) on a BalancedPool. */
export async function undiciRetryInterceptor({ targets, path, concurrency, options }) {
  const pool = new BalancedPool(targets, { connections: concurrency });
  const dispatcher = pool.compose(interceptors.retry({ maxRetries: options.retries ?? 3, minTimeout: 10 }));
  return {
    async request() {
      try {
        const { statusCode, body } = await dispatcher.request({ origin: targets[0], method: 'GET', path });
        await body.dump();
        return statusCode;
      } catch (err) {
        // After its last retry the interceptor throws with the final status.
        if (typeof err?.statusCode === 'number') return err.statusCode;
        throw err;
      }
    },
    close: () => pool.close(),
  };
}
