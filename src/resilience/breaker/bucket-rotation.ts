import { EventEmitter } from 'node:events';

/**
 * One timer per bucket length for every breaker in the process. opossum otherwise starts two
 * intervals per breaker (bucket rotation and snapshots); with a shared `rotateBucketController`
 * and snapshots off, a thousand per-service breakers cost one timer, not two thousand.
 */
interface Rotation {
  readonly controller: EventEmitter;
  readonly timer: NodeJS.Timeout;
  users: number;
}

const rotations = new Map<number, Rotation>();

/**
 * Returns the shared controller that emits `rotate` every `bucketMs`, starting its timer on first
 * use. Pair every call with {@link releaseBucketRotation}.
 */
export function acquireBucketRotation(bucketMs: number): EventEmitter {
  let rotation = rotations.get(bucketMs);
  if (rotation === undefined) {
    const controller = new EventEmitter();
    // Every breaker with this bucket length listens here; the count is unbounded by design.
    controller.setMaxListeners(0);
    const timer = setInterval(() => controller.emit('rotate'), bucketMs);
    timer.unref();
    rotation = { controller, timer, users: 0 };
    rotations.set(bucketMs, rotation);
  }
  rotation.users++;
  return rotation.controller;
}

/** Gives back a controller from {@link acquireBucketRotation}; the last user stops its timer. */
export function releaseBucketRotation(bucketMs: number): void {
  const rotation = rotations.get(bucketMs);
  if (rotation === undefined) return;
  if (--rotation.users > 0) return;
  clearInterval(rotation.timer);
  rotations.delete(bucketMs);
}

/** How many rotation timers run now (for tests that check nothing is left behind). */
export function activeBucketRotations(): number {
  return rotations.size;
}
