/** `-f PATH` for apply and delete: files, directories and stdin, read before anything is sent. */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { readSources } from '../../../config/load/files.ts';
import { formatIssue } from '../../../config/source/issues.ts';
import type { SourceText } from '../../../controlplane/local/protocol.ts';
import { CliError, type CliIo } from '../io.ts';

/**
 * Reads every path; relative paths against `io.cwd`, and reported as given, so the daemon's
 * file:line:col messages name the files the way the user typed them.
 */
export async function readPaths(paths: readonly string[], io: CliIo): Promise<SourceText[]> {
  const sources: SourceText[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    const absolute = path === '-' || isAbsolute(path) ? path : resolve(io.cwd, path);
    const shown = (file: string): string =>
      path === '-' || isAbsolute(path) ? file : relative(io.cwd, file) || '.';
    const result = await readSources([absolute], () => readAll(io));
    for (const s of result.sources) {
      // A Deployment's relative workingDir resolves against its file's directory, as compose does.
      const dir = path === '-' ? io.cwd : dirname(s.file);
      sources.push({ file: shown(s.file), text: s.text, dir });
    }
    for (const issue of result.issues) {
      problems.push(formatIssue({ ...issue, file: issue.file && shown(issue.file) }));
    }
  }
  if (problems.length > 0) {
    throw new CliError(
      `cannot read ${problems.length === 1 ? 'a path' : `${problems.length} paths`}; nothing was sent to the daemon`,
      { details: problems },
    );
  }
  return sources;
}

async function readAll(io: CliIo): Promise<string> {
  if (!io.stdin) throw new CliError('-f - reads stdin, but there is none');
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
