// What the demo is about to show, printed before the first frame.
import { CAST, latencyRange, SLOWED } from './profiles.mjs';

/**
 * @param {number} seconds length of the run
 * @param {import('./story.mjs').StoryEvent[]} story
 * @param {{ concurrency: number, balancer: string }} load
 * @returns {string[]}
 */
export function legend(seconds, story, { concurrency, balancer }) {
  const at = (event) => `${(event.at * seconds).toFixed(0)} s`;
  return [
    `trellis demo: one service, ${concurrency} callers in a loop, balancer ${balancer}`,
    `Upstreams: steady1, steady2 and slows answer in ${latencyRange(CAST.steady1)};`,
    `  flaky answers as fast but half its answers are 503s (errors).`,
    `The story: at ${at(story[0])} slows becomes slow (${latencyRange(SLOWED)}), at ${at(story[1])} steady2`,
    `  is killed, at ${at(story[2])} discovery replaces it with a new upstream, fresh.`,
    'Columns: req/s and share are attempts in the last interval; p50 ms their median',
    "  time to headers; est ms the balancer's latency estimate (traffic moves away",
    '  as it rises); 5xx/s failed attempts per second.',
    'States: active; ejected (out of rotation after 3 failures in a row, probed back',
    '  later); warm NN% (back or new, getting NN% of a full share); draining.',
    '',
  ];
}
