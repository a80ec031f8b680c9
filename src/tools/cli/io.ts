/**
 * What a command sees of the outside world, so tests run the whole CLI in-process (`run()` in
 * main.ts) and only main.ts touches `process`.
 */
import type { LaunchModule } from './launch-types.ts';

/** A stream to write text to; `process.stdout` fits, and so does a string collector in a test. */
export interface Output {
  write(chunk: string): unknown;
  /** Present on real streams: lets a long stream (`logs -f`) wait for `drain`. */
  once?(event: 'drain', listener: () => void): unknown;
}

export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Read by `-f -`; `process.stdin` in main.ts. */
  readonly stdin?: AsyncIterable<string | Uint8Array>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths (`--state`, `-f`, `--apply`) resolve against it. */
  readonly cwd: string;
  /** Ends a streaming command (`logs -f`) early; main.ts leaves Ctrl-C to its default. */
  readonly signal?: AbortSignal;
  /** Loads `src/tools/cli/launch.ts`; tests replace it. */
  readonly loadLaunch?: () => Promise<LaunchModule>;
}

/** Wrong invocation: printed as one `lanes: …` line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A failure the user can act on: `details` (issues, one per line, printed as they are) and then
 * one `lanes: <message>` line; exit code 1 unless said otherwise.
 */
export class CliError extends Error {
  override name = 'CliError';
  readonly details: readonly string[];
  readonly exitCode: number;

  constructor(message: string, options: { details?: readonly string[]; exitCode?: number } = {}) {
    super(message);
    this.details = options.details ?? [];
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Writes and, on a real stream that asks for it, waits until the buffer drains. */
export async function writeAndDrain(out: Output, chunk: string): Promise<void> {
  const ok = out.write(chunk);
  if (ok === false && out.once) {
    await new Promise<void>((resolve) => out.once?.('drain', resolve));
  }
}

/** Everything a command needs after the global flags were read. */
export interface CommandContext {
  readonly io: CliIo;
  /** The arguments after the command name. */
  readonly args: readonly string[];
  /** `--state` given before the command name, if any (a later one wins). */
  readonly globalState: string | undefined;
}
