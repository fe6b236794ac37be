// Per-endpoint figures, fed by a mesh layer below `balance` (so it sees which endpoint each
// attempt went to, and times it to the response headers), split into the story's phases.

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

class EndpointStats {
  /** Latencies (ms) of every attempt, for the summary. */
  all = [];
  /** Latencies of the current view interval, for the live figures. */
  recent = [];
  errors = 0;
  recentErrors = 0;
  ejections = 0;
  returns = 0;
}

/** Collects latencies, errors and ejections per endpoint id, and attempts per phase. */
export class Stats {
  /** @type {Map<string, EndpointStats>} */
  byEndpoint = new Map();
  /** @type {{ phase: string, atS: number, attempts: Map<string, number> }[]} */
  phases = [];
  #started = performance.now();
  #intervalStart = this.#started;

  constructor() {
    this.beginPhase('start');
  }

  of(id) {
    let stats = this.byEndpoint.get(id);
    if (stats === undefined) {
      stats = new EndpointStats();
      this.byEndpoint.set(id, stats);
    }
    return stats;
  }

  /** Seconds since the run started. */
  elapsedS() {
    return (performance.now() - this.#started) / 1000;
  }

  /** Starts counting attempts for a new phase of the story. */
  beginPhase(phase) {
    this.phases.push({ phase, atS: this.elapsedS(), attempts: new Map() });
  }

  #record(id, ms, ok) {
    const s = this.of(id);
    s.all.push(ms);
    s.recent.push(ms);
    if (!ok) {
      s.errors++;
      s.recentErrors++;
    }
    const { attempts } = this.phases[this.phases.length - 1];
    attempts.set(id, (attempts.get(id) ?? 0) + 1);
  }

  /** A trellis layer that records each attempt's endpoint, time to headers and outcome. */
  layer() {
    return {
      name: 'demo-stats',
      wrap: (next) => async (ctx) => {
        const started = performance.now();
        try {
          const response = await next(ctx);
          this.#record(ctx.endpoint.id, performance.now() - started, response.statusCode < 500);
          return response;
        } catch (err) {
          this.#record(ctx.endpoint.id, performance.now() - started, false);
          throw err;
        }
      },
    };
  }

  /**
   * Figures for the interval since the last call, then starts a new interval.
   * @returns {Map<string, { rps: number, share: number, p50: number, errors: number }>}
   */
  takeInterval() {
    const now = performance.now();
    const seconds = (now - this.#intervalStart) / 1000;
    this.#intervalStart = now;
    let total = 0;
    for (const s of this.byEndpoint.values()) total += s.recent.length;
    const figures = new Map();
    for (const [id, s] of this.byEndpoint) {
      const sorted = s.recent.sort((a, b) => a - b);
      figures.set(id, {
        rps: sorted.length / seconds,
        share: total === 0 ? 0 : sorted.length / total,
        p50: percentile(sorted, 50),
        errors: s.recentErrors / seconds,
      });
      s.recent = [];
      s.recentErrors = 0;
    }
    return figures;
  }
}
