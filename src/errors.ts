/**
 * Errors a user or an API client may see. `code` is a stable contract (API clients match on it);
 * `message` is Russian, says what is wrong and what to do. Anything else is a bug: it is logged
 * with its stack and the user sees a generic message.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'BAD_FILE'
  | 'TOO_LARGE'
  /** The service is doing as much of this as it may at once; try again shortly. */
  | 'BUSY';

const httpStatus: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  BAD_FILE: 422,
  TOO_LARGE: 413,
  BUSY: 503,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return httpStatus[this.code];
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
