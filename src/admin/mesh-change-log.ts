import type { EventEmitter } from 'eventemitter3';
import type { MeshEvents } from '../core/events.js';

/** One state change the mesh reported. */
export interface MeshChange {
  /** When, as an ISO timestamp. */
  at: string;
  service: string;
  /** `ejected`, `returned`, `circuit`, `endpoints`, `discovery-error`, `rules` or `rules-rejected`. */
  kind: string;
  /** What changed, in words. */
  detail: string;
}

const KEEP = 50;

/** The last few state changes of a mesh (ejections, returns, breaker, discovery, rules), for the dashboard. */
export class MeshChangeLog {
  readonly #changes: MeshChange[] = [];
  readonly #events: EventEmitter<MeshEvents>;
  readonly #listeners: Array<[keyof MeshEvents, (...args: never[]) => void]>;

  constructor(events: EventEmitter<MeshEvents>) {
    this.#events = events;
    const add = (service: string, kind: string, detail: string) => {
      this.#changes.unshift({ at: new Date().toISOString(), service, kind, detail });
      if (this.#changes.length > KEEP) this.#changes.pop();
    };
    this.#listeners = [
      [
        'endpointEjected',
        (s: string, e: string, reason: string, ms: number) => add(s, 'ejected', `${e} (${reason}, ${ms} ms)`),
      ],
      ['endpointReturned', (s: string, e: string) => add(s, 'returned', e)],
      ['circuit', (s: string, state: string) => add(s, 'circuit', state)],
      ['endpoints', (s: string, list: readonly unknown[]) => add(s, 'endpoints', `${list.length} endpoints`)],
      ['discoveryError', (s: string, err: Error) => add(s, 'discovery-error', err.message)],
      [
        'rulesApplied',
        (s: string, version: number, origin: string) => add(s, 'rules', `version ${version} from ${origin}`),
      ],
      ['rulesRejected', (s: string, err: Error) => add(s, 'rules-rejected', err.message)],
    ];
    for (const [event, listener] of this.#listeners) events.on(event, listener as never);
  }

  /** The newest first. */
  recent(): readonly MeshChange[] {
    return this.#changes;
  }

  close(): void {
    for (const [event, listener] of this.#listeners) this.#events.off(event, listener as never);
  }
}
