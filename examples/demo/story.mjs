// What happens mid-run, at a share of the run's length. Each event starts a new phase of the
// summary, so it can show where the traffic went before and after.
import { FRESH, latencyRange, SLOWED } from './profiles.mjs';

/**
 * @typedef {object} StoryCast
 * @property {Map<string, import('./processes.mjs').Upstream>} upstreams  the running ones, by name
 * @property {(name: string, profile: object) => Promise<import('./processes.mjs').Upstream>} start
 * @property {(addresses: string[]) => void} publish  the new endpoint set, through discovery
 */

/**
 * @typedef {object} StoryEvent
 * @property {number} at        share of the run, 0 to 1
 * @property {string} phase     short name, a row of the summary
 * @property {string} subject   the upstream it happens to, whose share the summary follows
 * @property {(cast: StoryCast) => Promise<string>} run  does it; resolves with what to tell
 */

/** @type {StoryEvent[]} */
export const STORY = [
  {
    at: 0.2,
    phase: 'slows slowed',
    subject: 'slows',
    async run({ upstreams }) {
      upstreams.get('slows').change(SLOWED);
      return `slows now answers in ${latencyRange(SLOWED)}: its est ms rises, its share falls`;
    },
  },
  {
    at: 0.4,
    phase: 'steady2 killed',
    subject: 'steady2',
    async run({ upstreams }) {
      await upstreams.get('steady2').kill();
      upstreams.delete('steady2');
      return 'steady2 killed (SIGKILL): retries send its requests elsewhere';
    },
  },
  {
    at: 0.6,
    phase: 'fresh added',
    subject: 'fresh',
    async run({ upstreams, start, publish }) {
      const fresh = await start(FRESH.name, FRESH.profile);
      publish([...upstreams.values()].map((u) => u.address));
      return `discovery: steady2 out, fresh (${fresh.address}) in, warming up`;
    },
  },
];
