/**
 * A request to the control API that cannot be done as asked: the HTTP status the API answers
 * with, a one-line message (what was wrong and what to do) and, for input errors, one line per
 * issue. Thrown anywhere a request is handled; api.ts turns it into an ErrorResponse.
 */
export class RequestError extends Error {
  readonly status: number;
  readonly issues: readonly string[];
  constructor(status: number, message: string, issues: readonly string[] = []) {
    super(message);
    this.status = status;
    this.issues = issues;
  }
}
