// Per-endpoint request statistics, fed by a mesh layer. The layer sits below `balance`, so it
// sees which endpoint each attempt went to and times it to the response headers.

/** Percentile of a sorted array (nearest rank). */
function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

class EndpointStats {
  /** Latencies (ms) of every request, for the summary. */
  all = [];
  /** Latencies of the current view interval, for the live figures. */
  recent = [];
  errors = 0;
  recentErrors = 0;

  record(ms, ok) {
    this.all.push(ms);
    this.recent.push(ms);
    if (!ok) {
      this.errors++;
      this.recentErrors++;
    }
  }
}

/** Collects latencies per endpoint id. */
export class Stats {
  /** @type {Map<string, EndpointStats>} */
  #byEndpoint = new Map();
  #intervalStart = performance.now();
  startedAt = performance.now();

  #of(id) {
    let stats = this.#byEndpoint.get(id);
    if (!stats) {
      stats = new EndpointStats();
      this.#byEndpoint.set(id, stats);
    }
    return stats;
  }

  /** A trellis layer that records each attempt's endpoint, time to headers and outcome. */
  layer() {
    return {
      name: 'demo-stats',
      wrap: (next) => async (ctx) => {
        const started = performance.now();
        try {
          const response = await next(ctx);
          this.#of(ctx.endpoint.id).record(performance.now() - started, response.statusCode < 500);
          return response;
        } catch (err) {
          this.#of(ctx.endpoint.id).record(performance.now() - started, false);
          throw err;
        }
      },
    };
  }

  /**
   * Figures for the interval since the last call, then starts a new interval.
   * @returns {Map<string, { rps: number, p50: number, p99: number, errors: number }>}
   */
  takeInterval() {
    const now = performance.now();
    const seconds = (now - this.#intervalStart) / 1000;
    this.#intervalStart = now;
    const figures = new Map();
    for (const [id, s] of this.#byEndpoint) {
      const sorted = s.recent.sort((a, b) => a - b);
      figures.set(id, {
        rps: sorted.length / seconds,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        errors: s.recentErrors,
      });
      s.recent = [];
      s.recentErrors = 0;
    }
    return figures;
  }

  /** @returns {Map<string, { count: number, rps: number, p50: number, p99: number, errors: number }>} */
  summary() {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const figures = new Map();
    for (const [id, s] of this.#byEndpoint) {
      const sorted = [...s.all].sort((a, b) => a - b);
      figures.set(id, {
        count: sorted.length,
        rps: sorted.length / seconds,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        errors: s.errors,
      });
    }
    return figures;
  }
}
