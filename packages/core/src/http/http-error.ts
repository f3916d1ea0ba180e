import { ErrorCode, isWeftError } from "../errors.js";

/** HTTP status of each core error code a request can end with. */
const statusByCode = new Map<string, number>(
  Object.entries({
    [ErrorCode.HTTP_BODY_TOO_LARGE]: 413,
    [ErrorCode.HTTP_JSON_INVALID]: 400,
    [ErrorCode.HTTP_BAD_REQUEST]: 400,
    [ErrorCode.HTTP_UNSUPPORTED_MEDIA_TYPE]: 415,
    [ErrorCode.HTTP_NOT_FOUND]: 404,
    [ErrorCode.HTTP_UNAUTHORIZED]: 401,
    [ErrorCode.ID_INVALID]: 400,
    [ErrorCode.FILTER_INVALID]: 400,
    [ErrorCode.CLASS_UNKNOWN]: 422,
    [ErrorCode.OBJECT_INVALID]: 422,
    [ErrorCode.WRITE_REJECTED]: 422,
    [ErrorCode.VECTORIZER_FAILED]: 503,
    [ErrorCode.WRITE_RETRYABLE]: 503,
    [ErrorCode.HOST_STOPPING]: 503,
  }),
);

/** Builds the response of a failed request: status and JSON body `{ error: { code, message, ... } }`. */
export function errorResponse(error: unknown): {
  status: number;
  body: { error: Record<string, unknown> };
} {
  if (!isWeftError(error)) {
    return {
      status: 500,
      body: {
        error: {
          code: "WEFT_ERR_INTERNAL",
          message: "internal error; see the host log",
        },
      },
    };
  }
  // A plugin's own codes are unknown here, so its errors may name their
  // status in `details.status`. A route also uses it for a core code whose
  // status depends on the request, such as an unknown class in the URL path.
  const declared = error.details.status;
  const declaredStatus =
    typeof declared === "number" && declared >= 400 && declared <= 599
      ? declared
      : undefined;
  const status =
    declaredStatus ??
    statusByCode.get(error.code) ??
    (error.retryable ? 503 : 500);
  const { problems, position, property } = error.details as Record<
    string,
    unknown
  >;
  return {
    status,
    body: {
      error: {
        code: error.code,
        message: error.message,
        ...(problems ? { problems } : {}),
        ...(position !== undefined ? { position } : {}),
        ...(property !== undefined ? { property } : {}),
      },
    },
  };
}
