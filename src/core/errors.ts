// Typed errors that carry a message fit to show the person who asked.
// Anything else that escapes a command is an internal error: logged in full, shown briefly.

export class UserFacingError extends Error {
  override name = 'UserFacingError';
}

/** Bad arguments or an unknown command: answered with the usage, nothing runs. */
export class UsageError extends UserFacingError {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** RBAC said no. */
export class DeniedError extends UserFacingError {
  override name = 'DeniedError';
}

/** A name that does not exist (a pod, a cluster, a backup, a pending action). */
export class NotFoundError extends UserFacingError {
  override name = 'NotFoundError';
}

/** An outside system could not be reached or answered with an error. */
export class UnreachableError extends UserFacingError {
  override name = 'UnreachableError';
}

/** The request is valid but would change nothing (already at 5 workers). */
export class NothingToDoError extends UserFacingError {
  override name = 'NothingToDoError';
}

/** A confirmation that can no longer be acted on. */
export class ConfirmationError extends UserFacingError {
  override name = 'ConfirmationError';
}

/** What was thrown, as an Error (a thrown string or object becomes one). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
