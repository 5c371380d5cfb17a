/**
 * The IM plugin's error registry: HTTP answers carry one of these codes and
 * SIP refusals carry the matching status and a Warning text.
 */
export const IM_ERRORS = {
  IM_ERR_BAD_REQUEST: { httpStatus: 400, message: 'The request is not valid' },
  IM_ERR_SIGN_IN_REQUIRED: { httpStatus: 401, message: 'Sign in as a user of this site first' },
  IM_ERR_WRONG_SITE: { httpStatus: 403, message: 'You are signed in to another site' },
  IM_ERR_UNKNOWN_USER: { httpStatus: 404, message: 'No such user on this site' },
  IM_ERR_BLOCKED: { httpStatus: 403, message: 'The message was refused by a filter' },
  IM_ERR_RATE_LIMITED: { httpStatus: 429, message: 'Too many messages; wait and send again' },
  IM_ERR_TOO_LARGE: { httpStatus: 413, message: 'The message is larger than this site allows' },
  IM_ERR_UNAVAILABLE: { httpStatus: 480, message: 'The recipient cannot be reached' },
  IM_ERR_CONVERSATION_NOT_FOUND: { httpStatus: 404, message: 'No such conversation' },
  IM_ERR_NOT_A_MEMBER: { httpStatus: 403, message: 'You are not a participant of this conversation' },
  IM_ERR_CONVERSATION_FULL: { httpStatus: 409, message: 'The conversation has reached the participant limit of this site' },
  IM_ERR_FILE_TOO_LARGE: { httpStatus: 413, message: 'The file is larger than this site allows' },
  IM_ERR_FILE_BLOCKED: { httpStatus: 415, message: 'Files of this type are blocked on this site' },
  IM_ERR_ESCALATION_FAILED: { httpStatus: 502, message: 'The plugin that handles this escalation failed' },
  IM_ERR_UPLOAD_NOT_FOUND: { httpStatus: 404, message: 'No such upload in progress' },
  IM_ERR_UPLOAD_OFFSET: { httpStatus: 409, message: 'The part does not start where the upload stands' },
  IM_ERR_UPLOAD_INCOMPLETE: { httpStatus: 409, message: 'The upload is not complete yet' },
  IM_ERR_FILE_NOT_FOUND: { httpStatus: 404, message: 'No such file, or it was not shared with you' },
} as const;

export type ImErrorCode = keyof typeof IM_ERRORS;

export class ImError extends Error {
  readonly code: ImErrorCode;
  readonly statusCode: number;

  constructor(code: ImErrorCode, detail?: string) {
    super(detail ? `${IM_ERRORS[code].message}: ${detail}` : IM_ERRORS[code].message);
    this.code = code;
    this.statusCode = IM_ERRORS[code].httpStatus;
  }

  toJSON(): { code: ImErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
