/**
 * FNV-1a, 32 bit, over UTF-16 code units. Used for sticky lane entry: it only needs to be stable
 * across processes and releases and spread keys evenly, not to resist attackers. Documented in
 * README so users can compute a key's bucket themselves.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The sticky bucket of a key for a lane: `fnv1a32("<lane>/<key>") % 100`. */
export function stickyBucket(salt: string, key: string): number {
  return fnv1a32(`${salt}/${key}`) % 100;
}
