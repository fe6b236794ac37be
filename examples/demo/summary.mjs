// The summary printed at the end: how many requests succeeded, where the traffic went in each
// phase of the story, and what the health layer did to each endpoint.
import { percentile } from './stats.mjs';
import { ms, percent, table } from './text.mjs';

/**
 * @param {import('./stats.mjs').Stats} stats
 * @param {import('./load.mjs').LoadCounts} counts
 * @param {Map<string, string>} names endpoint id -> upstream name
 * @param {import('./story.mjs').StoryEvent[]} story
 * @returns {string[]}
 */
export function summary(stats, counts, names, story) {
  const seconds = stats.elapsedS();
  const total = counts.ok + counts.failed;
  const rate = total === 0 ? '-' : `${((100 * counts.ok) / total).toFixed(2)}%`;
  const errors = [...counts.errors].map(([code, n]) => `${code} x${n}`).join(', ');
  const ids = [...stats.byEndpoint.keys()].sort((a, b) =>
    (names.get(a) ?? a).localeCompare(names.get(b) ?? b),
  );
  const label = (id) => names.get(id) ?? id;

  const phaseRows = stats.phases.map(({ phase, atS, attempts }) => {
    const inPhase = [...attempts.values()].reduce((n, c) => n + c, 0);
    return [
      `${atS.toFixed(1).padStart(4)} s ${phase}`,
      ...ids.map((id) => (attempts.has(id) && inPhase > 0 ? percent(attempts.get(id) / inPhase) : '-')),
    ];
  });
  // Each event's subject: its share of attempts in the phase before the event and in its own.
  const shareOf = (phase, name) => {
    const inPhase = [...phase.attempts.values()].reduce((n, c) => n + c, 0);
    const id = ids.find((i) => label(i) === name);
    return id === undefined || !phase.attempts.has(id) || inPhase === 0
      ? 'none'
      : percent(phase.attempts.get(id) / inPhase);
  };
  const told = story.flatMap((event) => {
    const at = stats.phases.findIndex((p) => p.phase === event.phase);
    if (at < 1) return [];
    const [before, after] = [stats.phases[at - 1], stats.phases[at]];
    return [
      `  ${event.phase}: ${event.subject} got ${shareOf(before, event.subject)} of the attempts before, ${shareOf(after, event.subject)} after`,
    ];
  });
  const endpointRows = ids.map((id) => {
    const s = stats.byEndpoint.get(id);
    const sorted = [...s.all].sort((a, b) => a - b);
    return [
      label(id),
      sorted.length,
      ms(percentile(sorted, 50)),
      ms(percentile(sorted, 99)),
      s.errors,
      s.ejections,
      s.returns,
    ];
  });
  return [
    '',
    `Summary: ${total} requests in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} req/s), ` +
      `${rate} succeeded${counts.failed > 0 ? `; ${counts.failed} failed` : ''}`,
    ...(errors ? [`  failures: ${errors}`] : []),
    '',
    'Share of attempts per endpoint, from each event to the next:',
    ...table(['from', ...ids.map(label)], phaseRows),
    ...(told.length > 0 ? ['', 'What happened:', ...told] : []),
    '',
    'Per endpoint, over the whole run (ejected: times the health layer took it out;',
    'back: times it was probed back into rotation):',
    ...table(['name', 'attempts', 'p50 ms', 'p99 ms', 'failed', 'ejected', 'back'], endpointRows),
  ];
}
