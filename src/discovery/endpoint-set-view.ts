import type { Endpoint } from './endpoint.js';
import type { ValidatedSink } from './update-guard.js';

/**
 * The endpoint set in force, kept whole from an {@link UpdateGuard}'s whole sets and keyed
 * changes, for tools that show the set rather than route to it (the `endpoints` command).
 */
export class EndpointSetView implements ValidatedSink {
  readonly #byId = new Map<string, Endpoint>();
  readonly #onChange: (view: EndpointSetView) => void;
  readonly #onError: (err: Error) => void;

  /**
   * @param onChange - called after each applied update
   * @param onError - failed resolutions and refused updates
   */
  constructor(onChange: (view: EndpointSetView) => void, onError: (err: Error) => void) {
    this.#onChange = onChange;
    this.#onError = onError;
  }

  /** The endpoints in force, one per id. */
  endpoints(): Endpoint[] {
    return [...this.#byId.values()];
  }

  update(endpoints: readonly Endpoint[]): void {
    this.#byId.clear();
    for (const endpoint of endpoints) this.#byId.set(endpoint.id, endpoint);
    this.#onChange(this);
  }

  change(changes: Map<string, Endpoint | null>): void {
    for (const [id, record] of changes) {
      if (record === null) this.#byId.delete(id);
      else this.#byId.set(id, record);
    }
    this.#onChange(this);
  }

  error(err: Error): void {
    this.#onError(err);
  }
}
