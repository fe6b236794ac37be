/**
 * Walker's alias method (Vose's construction): after O(n) set-up, draws index `i` with
 * probability `weights[i] / sum(weights)` in O(1) using one random number.
 */
export class AliasTable {
  readonly #probability: Float64Array;
  readonly #alias: Uint32Array;

  /** @param weights - finite, >= 0, at least one > 0 */
  constructor(weights: readonly number[]) {
    const n = weights.length;
    this.#probability = new Float64Array(n);
    this.#alias = new Uint32Array(n);
    let total = 0;
    for (const w of weights) total += w;
    const scaled = weights.map((w) => (w * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) (scaled[i]! < 1 ? small : large).push(i);
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.#probability[s] = scaled[s]!;
      this.#alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    // What is left is 1 up to rounding error.
    for (const i of large) this.#probability[i] = 1;
    for (const i of small) this.#probability[i] = 1;
  }

  /** An index drawn with probability proportional to its weight, from `u` uniform in `[0, 1)`. */
  draw(u: number): number {
    const scaled = u * this.#probability.length;
    const column = Math.floor(scaled);
    return scaled - column < this.#probability[column]! ? column : this.#alias[column]!;
  }
}
