// The loyalty services' one error type: a kind the caller maps once (CLI exit code, HTTP status).
// unavailable: Shopify could not be reached and the outcome is not known yet (a redemption left
// pending for recovery): retry later (HTTP 503).
export type LoyaltyErrorKind = "invalid" | "not_found" | "conflict" | "unavailable";

export class LoyaltyError extends Error {
  override readonly name = "LoyaltyError";
  constructor(
    readonly kind: LoyaltyErrorKind,
    message: string,
    /** Field errors for invalid program settings: path (e.g. `tiers.levels.1.threshold`) and message. */
    readonly errors: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}
