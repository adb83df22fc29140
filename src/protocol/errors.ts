/**
 * The errors catalogue: every error Ensemble reports to a client has a stable code here, an HTTP
 * status and a default human message. `docs/errors.md` documents each code (a test checks it).
 *
 * @example
 *   throw new EnsembleError('ENSEMBLE_ERR_WORKSPACE_NOT_FOUND');
 */
export const ERRORS = {
  ENSEMBLE_ERR_WRITE_KEY_MISSING: { status: 401, message: 'No write key: send it as the Basic-auth username, an X-Write-Key header or `writeKey` in the body.' },
  ENSEMBLE_ERR_WRITE_KEY_INVALID: { status: 401, message: 'Unknown write key.' },
  ENSEMBLE_ERR_ADMIN_TOKEN_INVALID: { status: 401, message: 'Missing or wrong admin token: send `Authorization: Bearer <token>`.' },
  ENSEMBLE_ERR_LOGIN_FAILED: { status: 401, message: 'Wrong email or password.' },
  ENSEMBLE_ERR_LOGIN_RATE_LIMITED: { status: 429, message: 'Too many failed logins for this account from this address; retry after the Retry-After delay.' },
  ENSEMBLE_ERR_SESSION_EXPIRED: { status: 401, message: 'The session has expired or was ended; log in again.' },
  ENSEMBLE_ERR_CSRF: { status: 403, message: 'Missing or wrong x-csrf-token header for a cookie session (the token comes with login and GET /api/auth/me).' },
  ENSEMBLE_ERR_USER_INVALID: { status: 400, message: 'The user is not valid; see the message.' },
  ENSEMBLE_ERR_USER_EXISTS: { status: 409, message: 'A user with this email already exists.' },
  ENSEMBLE_ERR_USER_NOT_FOUND: { status: 404, message: 'No such user.' },
  ENSEMBLE_ERR_LAST_ADMIN: { status: 409, message: 'This is the last admin user: make another user admin first.' },
  ENSEMBLE_ERR_API_KEY_NOT_FOUND: { status: 404, message: 'No such API key.' },
  ENSEMBLE_ERR_BODY_INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  ENSEMBLE_ERR_BODY_ENCODING: { status: 400, message: 'The request body could not be decoded with its Content-Encoding.' },
  ENSEMBLE_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than allowed.' },
  ENSEMBLE_ERR_BATCH_INVALID: { status: 400, message: 'The batch envelope is malformed: expected an object with a `batch` array.' },
  ENSEMBLE_ERR_BATCH_REJECTED: { status: 400, message: 'No event of the request was valid; see details.rejected.' },
  ENSEMBLE_ERR_EVENT_INVALID: { status: 400, message: 'The event does not follow the event schema.' },
  ENSEMBLE_ERR_EVENT_TOO_LARGE: { status: 400, message: 'The event is larger than 32 KB.' },
  ENSEMBLE_ERR_EVENT_TYPE: { status: 400, message: 'Unknown event type.' },
  ENSEMBLE_ERR_EVENT_NO_IDENTITY: { status: 400, message: 'The event has neither userId nor anonymousId.' },
  ENSEMBLE_ERR_EVENT_MISSING_FIELD: { status: 400, message: 'A field required by this event type is missing.' },
  ENSEMBLE_ERR_EVENT_TIMESTAMP: { status: 400, message: 'A timestamp is not a valid date.' },
  ENSEMBLE_ERR_PIXEL_DATA: { status: 400, message: 'The pixel `data` parameter is not base64-encoded JSON.' },
  ENSEMBLE_ERR_TAG_VERSION: { status: 404, message: 'This server does not serve that version of tag.js; use /tag.js or the version it names.' },
  ENSEMBLE_ERR_TAG_UNAVAILABLE: { status: 503, message: 'tag.js has not been built on this server (npm run build:tag).' },
  ENSEMBLE_ERR_OVERLOADED: { status: 429, message: 'The collector is over capacity; retry after the Retry-After delay.' },
  ENSEMBLE_ERR_STORE_UNAVAILABLE: { status: 503, message: 'The events could not be stored durably; nothing was accepted, retry later.' },
  ENSEMBLE_ERR_SHUTTING_DOWN: { status: 503, message: 'The server is shutting down; retry later.' },
  ENSEMBLE_ERR_AUDIT_UNAVAILABLE: { status: 503, message: 'The audit entry of this action could not be stored; the action itself may have been applied: check before retrying.' },
  ENSEMBLE_ERR_VALIDATION: { status: 400, message: 'The request does not match the API schema.' },
  ENSEMBLE_ERR_NOT_FOUND: { status: 404, message: 'No such route.' },
  ENSEMBLE_ERR_WORKSPACE_NOT_FOUND: { status: 404, message: 'No such workspace.' },
  ENSEMBLE_ERR_SOURCE_NOT_FOUND: { status: 404, message: 'No such source in this workspace.' },
  ENSEMBLE_ERR_PROFILE_NOT_FOUND: { status: 404, message: 'No such profile in this workspace.' },
  ENSEMBLE_ERR_IDENTIFIER_TYPE: { status: 400, message: 'Unknown identifier type.' },
  ENSEMBLE_ERR_FORBIDDEN: { status: 403, message: 'This key is not allowed to do that.' },
  ENSEMBLE_ERR_IDENTITY_CONFIG_INVALID: { status: 400, message: 'The identity configuration is not valid; see details.' },
  ENSEMBLE_ERR_IDENTIFIER_NOT_ON_PROFILE: { status: 404, message: 'The profile has no such identifier.' },
  ENSEMBLE_ERR_SPLIT_LAST_IDENTIFIER: { status: 409, message: 'A profile with a single identifier cannot be split.' },
  ENSEMBLE_ERR_COMPUTED_TRAIT_INVALID: { status: 400, message: 'The computed trait definition is not valid; see details.' },
  ENSEMBLE_ERR_COMPUTED_TRAIT_EXISTS: { status: 409, message: 'A computed trait with this name already exists in the workspace.' },
  ENSEMBLE_ERR_COMPUTED_TRAIT_NOT_FOUND: { status: 404, message: 'No such computed trait in this workspace.' },
  ENSEMBLE_ERR_COMPUTED_TRAIT_IN_USE: { status: 409, message: 'Segments read this computed trait; change them first (see details.usedBy).' },
  ENSEMBLE_ERR_SEGMENT_INVALID: { status: 400, message: 'The segment definition is not valid; see details.' },
  ENSEMBLE_ERR_SEGMENT_NOT_FOUND: { status: 404, message: 'No such segment in this workspace.' },
  ENSEMBLE_ERR_SEGMENT_IN_USE: { status: 409, message: 'Other segments include this one; change them first (see details.usedBy).' },
  ENSEMBLE_ERR_IMPORT_INVALID: { status: 400, message: 'The import file or its mapping is not valid; see details.' },
  ENSEMBLE_ERR_IMPORT_JOB_NOT_FOUND: { status: 404, message: 'No such import job for this source.' },
  ENSEMBLE_ERR_IMPORT_TOO_LARGE: { status: 413, message: 'The import file is larger than this server accepts (collect.maxImportBytes).' },
  ENSEMBLE_ERR_HOOK_NOT_FOUND: { status: 404, message: 'No such inbound hook.' },
  ENSEMBLE_ERR_HOOK_SECRET: { status: 401, message: 'The hook secret is missing or wrong.' },
  ENSEMBLE_ERR_CURSOR_INVALID: { status: 400, message: 'The pagination cursor is not one this API returned.' },
  ENSEMBLE_ERR_PURPOSE_UNKNOWN: { status: 400, message: 'A purpose named here does not exist in this workspace.' },
  ENSEMBLE_ERR_CONSENT_MAPPING_INVALID: { status: 400, message: 'The consent mapping is not valid; see details.' },
  ENSEMBLE_ERR_CONSENT_TCF_INVALID: { status: 400, message: 'The IAB TCF consent string is not a valid TCF v2 string; it was not read as consent.' },
  ENSEMBLE_ERR_CONSENT_TIME: { status: 400, message: 'A consent decision cannot be dated in the future.' },
  ENSEMBLE_ERR_RIGHTS_REQUEST_NOT_FOUND: { status: 404, message: 'No such rights request in this workspace.' },
  ENSEMBLE_ERR_RIGHTS_REQUEST_INVALID: { status: 400, message: 'The rights request is not valid for its type; see the message.' },
  ENSEMBLE_ERR_SENSITIVE_DATA_ADVERTISING: { status: 400, message: 'A segment that reads special-category data cannot serve advertising.' },
  ENSEMBLE_ERR_SEGMENT_NOT_SENSITIVE: { status: 409, message: 'This segment reads no special-category data: there is nothing to approve.' },
  ENSEMBLE_ERR_PURPOSE_LIMITATION: { status: 400, message: 'No source collects data for the purposes this would serve.' },
  ENSEMBLE_ERR_BREACH_NOT_FOUND: { status: 404, message: 'No such breach record in this workspace.' },
  ENSEMBLE_ERR_BREACH_INVALID: { status: 400, message: 'The breach record is not valid; see the message.' },
  ENSEMBLE_ERR_BREACH_STATUS: { status: 409, message: 'The breach record cannot change this way from its current status.' },
  ENSEMBLE_ERR_SECURITY_EVENT_NOT_FOUND: { status: 400, message: 'A security event named here does not exist in this workspace; see details.' },
  ENSEMBLE_ERR_DESTINATION_NOT_FOUND: { status: 404, message: 'No such destination in this workspace.' },
  ENSEMBLE_ERR_DESTINATION_TYPE_UNKNOWN: { status: 400, message: 'No connector of this type; GET /api/destination-types lists them.' },
  ENSEMBLE_ERR_DESTINATION_CONFIG_INVALID: { status: 400, message: "The destination's config does not match its connector's schema; see details." },
  ENSEMBLE_ERR_DESTINATION_KIND: { status: 400, message: 'This connector does not take that kind of delivery (audiences, events or messages).' },
  ENSEMBLE_ERR_TRIGGER_NOT_FOUND: { status: 404, message: 'No such trigger in this workspace.' },
  ENSEMBLE_ERR_TRIGGER_INVALID: { status: 400, message: 'The trigger is not valid; see details.' },
  ENSEMBLE_ERR_TEMPLATE_INVALID: { status: 400, message: 'A message template does not parse; see details.' },
  ENSEMBLE_ERR_LINK_INVALID: { status: 404, message: 'This link is not one Ensemble signed, or it was altered.' },
  ENSEMBLE_ERR_SYNC_PARTNER_UNKNOWN: { status: 404, message: 'No cookie-sync partner of this name.' },
  ENSEMBLE_ERR_SYNC_INVALID: { status: 400, message: 'The cookie-sync request lacks the visitor or the partner user id.' },
  ENSEMBLE_ERR_JOURNEY_NOT_FOUND: { status: 404, message: 'No such journey in this workspace.' },
  ENSEMBLE_ERR_GEOFENCE_NOT_FOUND: { status: 404, message: 'No such geofence in this workspace.' },
  ENSEMBLE_ERR_JOURNEY_INVALID: { status: 400, message: 'The journey definition is not valid; see details.problems.' },
  ENSEMBLE_ERR_JOURNEY_STATUS: { status: 409, message: 'The journey cannot change this way from its current status.' },
  ENSEMBLE_ERR_PRESSURE_POLICY_INVALID: { status: 400, message: 'The marketing-pressure policy is not valid; see details.problems.' },
  ENSEMBLE_ERR_EXTERNAL_SOURCE_INVALID: { status: 400, message: 'The external source definition is not valid; see details.problems.' },
  ENSEMBLE_ERR_EXTERNAL_SOURCE_NOT_FOUND: { status: 404, message: 'No such external source in this workspace.' },
  ENSEMBLE_ERR_EXTERNAL_SOURCE_EXISTS: { status: 409, message: 'The workspace already has an external source with this id.' },
  ENSEMBLE_ERR_MODEL_INVALID: { status: 400, message: 'The model definition is not valid; see details.problems.' },
  ENSEMBLE_ERR_MODEL_NOT_FOUND: { status: 404, message: 'No such model in this workspace.' },
  ENSEMBLE_ERR_MODEL_EXISTS: { status: 409, message: 'The workspace already has a model with this key.' },
  ENSEMBLE_ERR_MODEL_BUSY: { status: 409, message: 'The model is being trained; try again when that run ends.' },
  ENSEMBLE_ERR_MODEL_NOT_TRAINED: { status: 409, message: 'The model has no trained version yet.' },
  ENSEMBLE_ERR_MODEL_DATA_INSUFFICIENT: { status: 422, message: 'Not enough consenting profiles of each class to train and evaluate this model; see details.' },
  ENSEMBLE_ERR_ANALYTICS_PATH_INVALID: { status: 400, message: 'Not a property path: use properties.<key>, traits.<key>, context.<key> or a named column.' },
  ENSEMBLE_ERR_ANALYTICS_FILTER_INVALID: { status: 400, message: 'The analytics filter is not valid; see the message.' },
  ENSEMBLE_ERR_ANALYTICS_RANGE_INVALID: { status: 400, message: 'The time range is not valid; see the message.' },
  ENSEMBLE_ERR_INTERNAL: { status: 500, message: 'Internal error; it has been logged.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The body of every API error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** An error meant for the client: carries a catalogue code; never wraps internals. */
export class EnsembleError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERRORS[code].message);
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}
