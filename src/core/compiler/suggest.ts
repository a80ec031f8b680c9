/**
 * What to add to "X does not exist": the closest known name, since a typo is the usual cause, or
 * else the known names while there are few, so that the fix is in the message itself.
 */
import { didYouMean } from '../../config/schema/did-you-mean.ts';

/** Beyond this many names, listing them helps less than it clutters. */
const LISTED = 8;

/** ` (did you mean "stable"?)`, else ` (lanes and subsets: a, b)`, else nothing. */
export function suggestName(word: string, known: Iterable<string>, what: string): string {
  const names = [...new Set(known)].sort();
  const close = didYouMean(word, names);
  if (close !== undefined) return ` (did you mean ${JSON.stringify(close)}?)`;
  if (names.length === 0 || names.length > LISTED) return '';
  return ` (${what}: ${names.join(', ')})`;
}
