// Upstream profiles for the demo: how each upstream process behaves. Add a profile here (a slow
// one, a flaky one...) and pick it with `--upstreams steady,slow,...` or list it in DEMO_UPSTREAMS.

/**
 * @typedef {object} UpstreamProfile
 * @property {string} name        label shown in the view
 * @property {number} latencyMs   typical time to answer
 * @property {number} jitterMs    extra random time, 0 to jitterMs
 * @property {number} errorRate   share of requests answered with 503, 0 to 1
 */

/** @type {Record<string, UpstreamProfile>} */
export const PROFILES = {
  steady: { name: 'steady', latencyMs: 5, jitterMs: 5, errorRate: 0 },
  slow: { name: 'slow', latencyMs: 50, jitterMs: 10, errorRate: 0 },
  flaky: { name: 'flaky', latencyMs: 5, jitterMs: 5, errorRate: 0.5 },
};

/** Profile names of the upstreams the demo starts by default. */
export const DEMO_UPSTREAMS = ['steady', 'steady', 'slow', 'flaky'];
