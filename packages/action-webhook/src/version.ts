/** This package's version, sent in the default `user-agent` header. */
export const packageVersion = "0.1.0";

export const userAgent = `weft-action-webhook/${packageVersion}`;
