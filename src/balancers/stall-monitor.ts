/**
 * Notices when this process's event loop stalls (a long synchronous task, a GC pause, the
 * process waiting for a CPU). Latency measured in-process includes such stalls: an answer that
 * arrived during one sits unread until the loop runs again, so every request in flight looks
 * slow at once, whichever endpoint it went to. A peak-sensitive estimate would take that as
 * every endpoint being slow and forget the real differences for a whole decay time; subtracting
 * the stall keeps the blame where it belongs. A sidecar proxy does not have this problem, an
 * in-process mesh does.
 *
 * One shared, unreferenced 10 ms timer (it never keeps the process alive) records the last few
 * stalls of 15 ms or more, and doubles as a cheap coarse clock for picks.
 */
const TICK_MS = 10;
const MIN_STALL_MS = 15;
const SLOTS = 32;

const stallEnds = new Float64Array(SLOTS);
const stallLengths = new Float64Array(SLOTS);
let nextSlot = 0;
let latestStallEnd = 0;
let lastTick = 0;
let timer: NodeJS.Timeout | undefined;

function tick(): void {
  const now = performance.now();
  const lag = now - lastTick - TICK_MS;
  lastTick = now;
  if (lag >= MIN_STALL_MS) {
    stallEnds[nextSlot] = now;
    stallLengths[nextSlot] = lag;
    latestStallEnd = now;
    nextSlot = (nextSlot + 1) % SLOTS;
  }
}

/**
 * The time of the ticker's last tick: a clock of 10 ms resolution (coarser during stalls) that
 * costs a variable read. Only meaningful once {@link watchStalls} has started the ticker.
 */
export function coarseNow(): number {
  return lastTick;
}

/** Starts the shared monitor if it is not running yet. */
export function watchStalls(): void {
  if (timer !== undefined) return;
  lastTick = performance.now();
  timer = setInterval(tick, TICK_MS);
  timer.unref();
}

/**
 * Milliseconds of event-loop stall seen between `start` and `end` (`performance.now()` times),
 * including one still being caught up on: after the process waited for a CPU, the loop handles
 * the I/O that piled up before its timers run again, so the tick is late but not yet recorded.
 */
export function stalledBetween(start: number, end: number): number {
  const overdue = end - lastTick - TICK_MS;
  let total = overdue >= MIN_STALL_MS ? Math.min(overdue, end - start) : 0;
  if (latestStallEnd <= start) return total;
  for (let i = 0; i < SLOTS; i++) {
    const stallEnd = stallEnds[i]!;
    if (stallEnd > start && stallEnd <= end) total += Math.min(stallLengths[i]!, stallEnd - start);
  }
  return total;
}
