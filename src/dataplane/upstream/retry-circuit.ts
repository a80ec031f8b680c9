/**
 * Retries outstanding per destination, bounded by DestinationRule
 * `connectionPool.http.maxRetries` (Envoy's max_retries circuit breaker, which Istio sets only
 * from a value above 0: unset means no bound). An exchange holds one slot from its first retry
 * until it ends; a retry that would exceed the bound is not made, and the failure it would have
 * retried is what the client gets. That keeps a struggling service from being hit by a storm of
 * retries on top of its load.
 */
export class RetryCircuit {
  readonly #active = new Map<string, number>();
  #overflows = 0;

  /** Takes a slot for a retry to `destination`, unless `max` are outstanding already. */
  tryBegin(destination: string, max: number | undefined): boolean {
    const active = this.#active.get(destination) ?? 0;
    if (max !== undefined && active >= max) {
      this.#overflows++;
      return false;
    }
    this.#active.set(destination, active + 1);
    return true;
  }

  end(destination: string): void {
    const active = this.#active.get(destination) ?? 0;
    if (active <= 1) this.#active.delete(destination);
    else this.#active.set(destination, active - 1);
  }

  active(destination: string): number {
    return this.#active.get(destination) ?? 0;
  }

  /** Retries refused because their destination had `maxRetries` outstanding. */
  get overflows(): number {
    return this.#overflows;
  }
}
