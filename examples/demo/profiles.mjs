// The demo's cast: one upstream process per name, each with a profile saying how it answers.
// The story (story.mjs) changes some of them mid-run.

/**
 * @typedef {object} UpstreamProfile
 * @property {number} latencyMs   typical time to answer
 * @property {number} jitterMs    extra random time, 0 to jitterMs
 * @property {number} errorRate   share of requests answered with 503, 0 to 1
 */

/** A healthy upstream: answers in 5-10 ms, never fails. */
const STEADY = { latencyMs: 5, jitterMs: 5, errorRate: 0 };

/** @type {Record<string, UpstreamProfile>} the upstreams started at the beginning, by name */
export const CAST = {
  steady1: STEADY,
  steady2: STEADY,
  slows: STEADY,
  // Fast, but half of its answers are 503s: the health layer ejects it, then probes it back.
  flaky: { latencyMs: 5, jitterMs: 5, errorRate: 0.5 },
};

/** What `slows` becomes when the story slows it down: 60-80 ms an answer. */
export const SLOWED = { latencyMs: 60, jitterMs: 20 };

/** The upstream the story adds through discovery. */
export const FRESH = { name: 'fresh', profile: STEADY };

/** `5-10 ms` for a profile. */
export function latencyRange(profile) {
  return `${profile.latencyMs}-${profile.latencyMs + profile.jitterMs} ms`;
}
