/**
 * A problem found in user input. Every issue says where (file:line:col and field path), what was
 * wrong and, in the message, what is allowed or what to do.
 */
export interface Issue {
  readonly file?: string | undefined;
  readonly line: number;
  readonly col: number;
  /** Field path inside the document, e.g. `spec.http[0].route[1].weight`; empty for the document. */
  readonly path: string;
  readonly message: string;
  /**
   * `error` rejects the whole apply. `ignored` is a field lanes accepts but has no use for (reported
   * in the resource's status). `warning` is accepted but probably not what the user meant.
   */
  readonly severity: 'error' | 'warning' | 'ignored';
  /** `Kind namespace/name` of the resource the issue belongs to, when known. */
  readonly resource?: string | undefined;
}

/** `file:line:col: Kind ns/name: path: message` — the one-line form printed by the CLI. */
export function formatIssue(issue: Issue): string {
  const where = issue.file
    ? issue.line > 0
      ? `${issue.file}:${issue.line}:${issue.col}`
      : issue.file
    : issue.line > 0
      ? `${issue.line}:${issue.col}`
      : '';
  const parts = [where, issue.resource, issue.path].filter((p) => p !== undefined && p !== '');
  return `${parts.join(': ')}${parts.length > 0 ? ': ' : ''}${issue.message}`;
}

export function isError(issue: Issue): boolean {
  return issue.severity === 'error';
}
