/**
 * How a failed command ends: the issue lines, then one `lanes: …` line on stderr, and the exit
 * code (2 usage, 1 failure). Shared by `run()` and by `up`, which applies files after the daemon
 * is ready and must report a rejected apply the same way `lanes apply` does.
 */
import { CliError, type CliIo, UsageError } from './io.ts';

/** Errors become one `lanes: …` line (after any issue lines); never a stack trace. */
export function report(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr.write(`lanes: ${oneLine(error.message)}\n`);
    return 2;
  }
  if (error instanceof CliError) {
    for (const line of error.details) io.stderr.write(`${oneLine(line)}\n`);
    io.stderr.write(`lanes: ${oneLine(error.message)}\n`);
    return error.exitCode;
  }
  // A bug or an unexpected failure: still one line; LANES_DEBUG=1 shows where it came from.
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`lanes: internal error: ${oneLine(message)}\n`);
  if (io.env.LANES_DEBUG && error instanceof Error && error.stack) {
    io.stderr.write(`${error.stack}\n`);
  }
  return 1;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
