/**
 * The end of a file that may be large (an instance's log, access.log): at most `maxBytes`, read
 * in one go. `whole` says whether that is the entire file — when it is not, the first line of
 * `text` is probably cut.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The last `maxBytes` of `file`, or undefined when it cannot be read (missing, unreadable). */
export function fileTail(
  file: string,
  maxBytes: number,
): { readonly text: string; readonly whole: boolean } | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, size - length);
    return { text: buffer.toString('utf8', 0, read), whole: length === size };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
