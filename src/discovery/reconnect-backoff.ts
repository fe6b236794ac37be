import { Backoff } from '../core/backoff.js';

/**
 * The backoff of discovery's watch and retry loops after a failure: a wait that doubles from
 * `baseMs` up to `maxMs`, of which half is random. The fixed half keeps a loop from spinning
 * against a server that is down (full jitter can wait almost nothing); the random half keeps a
 * fleet of meshes that lost the same server from coming back in step.
 *
 * @param baseMs - cap of the first wait
 * @param maxMs - cap of any wait
 */
export function reconnectBackoff(baseMs: number, maxMs: number): Backoff {
  return new Backoff({ baseMs, maxMs, jitter: 0.5 });
}
