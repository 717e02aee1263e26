/** Delivery ids seen recently: a replayed or retried delivery is acknowledged and not acted on twice. */
export class RecentIds {
  #ids = new Set<string>();
  constructor(private readonly capacity = 10_000) {}

  /** Records `id`; false when it was already recorded. The oldest id is forgotten past the capacity. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    // A Set iterates in insertion order: the first is the oldest.
    if (this.#ids.size > this.capacity) this.#ids.delete(this.#ids.values().next().value!);
    return true;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  get size(): number {
    return this.#ids.size;
  }
}
