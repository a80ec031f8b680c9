/**
 * Routing-table snapshots and how proxies get them. A proxy subscribes to a config source and
 * keeps the newest snapshot; each request captures the snapshot once when its head arrives and
 * finishes on it, so a swap never changes a request midway. When the source goes away the last
 * good snapshot stays in force.
 */
import type { OverrideKey } from '../core/carriers/override.ts';
import type { RoutingTable } from '../core/compiler/table.ts';

export interface Snapshot {
  /** Increases with every publish; proxies report the version they run. */
  readonly version: number;
  readonly table: RoutingTable;
  /**
   * The mesh's keys for per-request overrides (the first signs). They travel with the config, as
   * Envoy's secrets travel beside its routes (SDS): a proxy without them follows no override.
   */
  readonly overrideKeys?: readonly OverrideKey[];
}

export interface ConfigSource {
  /** Calls `listener` with the current snapshot (if any) and every later one; returns unsubscribe. */
  subscribe(listener: (snapshot: Snapshot) => void): () => void;
}

/** The in-process source: the control plane publishes, proxies in the same process subscribe. */
export class ConfigStore implements ConfigSource {
  #current: Snapshot | undefined;
  #version = 0;
  #deliveries = 0;
  readonly #listeners = new Set<(snapshot: Snapshot) => void>();

  get current(): Snapshot | undefined {
    return this.#current;
  }

  publish(table: RoutingTable, overrideKeys?: readonly OverrideKey[]): Snapshot {
    this.#version += 1;
    const snapshot: Snapshot = overrideKeys
      ? { version: this.#version, table, overrideKeys }
      : { version: this.#version, table };
    this.#current = snapshot;
    for (const listener of this.#listeners) listener(snapshot);
    this.#deliveries += this.#listeners.size;
    return snapshot;
  }

  subscribe(listener: (snapshot: Snapshot) => void): () => void {
    this.#listeners.add(listener);
    if (this.#current) {
      listener(this.#current);
      this.#deliveries++;
    }
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The current version, snapshots handed to subscribers so far, and how many subscribe now. */
  stats(): { readonly version: number; readonly pushes: number; readonly subscribers: number } {
    return { version: this.#version, pushes: this.#deliveries, subscribers: this.#listeners.size };
  }

  /** Disconnects every subscriber; they keep their last snapshot. */
  close(): void {
    this.#listeners.clear();
  }
}
