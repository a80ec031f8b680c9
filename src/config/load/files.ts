/**
 * Reads the files, directories and stdin named on a command line (`-f PATH`, `-f -`). Directories
 * are read recursively, `.yaml`, `.yml` and `.json` files in name order, as kubectl does.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Issue } from '../source/issues.ts';
import type { SourceText } from './resources.ts';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

export interface ReadResult {
  readonly sources: readonly SourceText[];
  readonly issues: readonly Issue[];
}

export async function readSources(
  paths: readonly string[],
  stdin: () => Promise<string> = readStdin,
): Promise<ReadResult> {
  const sources: SourceText[] = [];
  const issues: Issue[] = [];
  for (const path of paths) {
    if (path === '-') {
      sources.push({ file: '<stdin>', text: await stdin() });
      continue;
    }
    try {
      const info = await stat(path);
      if (info.isDirectory()) {
        const files = await listYamlFiles(path);
        if (files.length === 0)
          issues.push(fileIssue(path, 'directory has no .yaml, .yml or .json files'));
        for (const file of files) sources.push({ file, text: await readFile(file, 'utf8') });
      } else {
        sources.push({ file: path, text: await readFile(path, 'utf8') });
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      issues.push(
        fileIssue(
          path,
          code === 'ENOENT'
            ? 'no such file or directory'
            : code === 'EACCES'
              ? 'permission denied'
              : (error as Error).message,
        ),
      );
    }
  }
  return { sources, issues };
}

async function listYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listYamlFiles(full)));
    else if (EXTENSIONS.some((ext) => entry.name.endsWith(ext))) out.push(full);
  }
  return out;
}

function fileIssue(file: string, message: string): Issue {
  return { file, line: 0, col: 0, path: '', message, severity: 'error' };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
