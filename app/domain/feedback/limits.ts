// Limits of the public answer form, shared by the server (validation) and the page itself
// (maxLength, the hint text). Not in a .server module: Remix leaves those out of the browser
// bundle, where the values would be undefined and the hydrated page would differ from the
// server's HTML ("Up to undefined characters", no maxLength).
export const MAX_COMMENT_CHARS = 2000;
export const MAX_REVIEW_CHARS = 2000;
/** Largest form body accepted (a full answer with every text at its limit is far below). */
export const MAX_FORM_BYTES = 64 * 1024;
