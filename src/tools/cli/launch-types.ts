/**
 * What `src/tools/cli/launch.ts` exports. The CLI loads it when `up` or `down` runs, and tests
 * replace it (`CliIo.loadLaunch`) to check the CLI side without starting a daemon.
 */

export interface UpOptions {
  readonly stateDir: string;
  /** Run the daemon in the background and return once it is ready. */
  readonly detach: boolean;
  readonly quiet?: boolean;
  /**
   * Runs once the daemon is ready, before the gateway URLs are printed (`--apply` files, so
   * the URLs include the gateways they define). Resolves with an exit code.
   */
  readonly afterReady?: () => Promise<number>;
}

export interface DownOptions {
  readonly stateDir: string;
}

export interface LaunchModule {
  /** Resolves with the exit code. */
  up(opts: UpOptions): Promise<number>;
  down(opts: DownOptions): Promise<number>;
}
