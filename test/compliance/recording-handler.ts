import type { Dispatcher } from 'undici';

/** What a {@link RecordingHandler} saw, in order: `start`, `response <status>`, `data <text>`, `end`, `error <code>`. */
export type HandlerEvent = string;

/**
 * An undici 7 dispatch handler that writes down every callback it gets and can pause or abort
 * through its controller at a chosen moment, so one script can be run against the mesh and
 * against undici's own Agent and the two records compared.
 */
export class RecordingHandler implements Dispatcher.DispatchHandler {
  readonly events: HandlerEvent[] = [];
  controller: Dispatcher.DispatchController | undefined;
  readonly done: Promise<void>;
  #done!: () => void;

  /**
   * @param script - called after each callback with the event just recorded; may pause, resume or abort
   */
  constructor(readonly script: (event: HandlerEvent, handler: RecordingHandler) => void = () => {}) {
    this.done = new Promise((resolve) => {
      this.#done = resolve;
    });
  }

  #record(event: HandlerEvent): void {
    this.events.push(event);
    this.script(event, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.#record('start');
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.#record(`response ${statusCode}`);
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#record(`data ${chunk.toString()}`);
  }

  onResponseEnd(): void {
    this.#record('end');
    this.#done();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.#record(`error ${(err as { code?: string }).code ?? err.name}`);
    this.#done();
  }

  /** The body text received so far. */
  get body(): string {
    return this.events
      .filter((e) => e.startsWith('data '))
      .map((e) => e.slice(5))
      .join('');
  }

  /** How many callbacks of the given kind (`data`, `end`, ...) arrived. */
  count(kind: string): number {
    return this.events.filter((e) => e === kind || e.startsWith(`${kind} `)).length;
  }
}
