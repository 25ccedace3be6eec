// Display helpers for the loyalty pages (pure, fixed locale, so the server's HTML and the
// hydrated page print the same text). Points are integers; money stays exact (bigint minor
// units, never floating point).
import { currencyExponent } from "../money";
import { createFormatter } from "../format";
import type { LedgerKind } from "./ledger";

const LOCALE = "en-US";
const fmt = createFormatter({ locale: LOCALE });

/** 1204 -> "1,204" (the one formatter, app/domain/format.ts). */
export const formatPoints = (n: number) => fmt.count(n);

/** 1 -> "1 point", 1204 -> "1,204 points", -5 -> "−5 points". */
export const pointsLabel = (n: number) => `${n < 0 ? "−" : ""}${formatPoints(Math.abs(n))} ${Math.abs(n) === 1 ? "point" : "points"}`;

/** +120 / −20 / 0 (a real minus sign), for ledger rows. */
export const signedPoints = (n: number) => (n > 0 ? `+${formatPoints(n)}` : n < 0 ? `−${formatPoints(-n)}` : "0");

/** 1 -> "1 member", 30 -> "30 members". */
export const membersLabel = (n: number) => `${formatPoints(n)} ${n === 1 ? "member" : "members"}`;

/** "12448" USD -> "$124.48" (exact: the decimal string goes to Intl, not a float). */
export function formatMoney(minor: bigint, currency: string): string {
  return fmt.money(minor, currency);
}

/**
 * A money amount that may have more precision than the currency (the value of one point):
 * `numerator / denominator` minor units, shown with up to `extraDigits` more fraction digits
 * than the currency has, trailing zeros beyond the currency's own digits dropped, truncated
 * (a value per point is never shown as more than it is). 5/1 USD -> "$0.05"; 10/3 USD -> "$0.0333".
 */
export function formatMoneyRatio(numerator: bigint, denominator: bigint, currency: string, extraDigits = 2): string {
  if (denominator <= 0n) throw new RangeError("denominator must be positive");
  const code = currency.toUpperCase();
  const exponent = currencyExponent(code);
  const scale = 10n ** BigInt(extraDigits);
  const scaled = (numerator * scale) / denominator; // minor units x 10^extraDigits, truncated
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(exponent + extraDigits + 1, "0");
  const whole = digits.slice(0, digits.length - exponent - extraDigits);
  let fraction = digits.slice(digits.length - exponent - extraDigits);
  while (fraction.length > exponent && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  const decimal = `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
  try {
    return new Intl.NumberFormat(LOCALE, { style: "currency", currency: code, minimumFractionDigits: exponent, maximumFractionDigits: fraction.length }).format(
      decimal as Intl.StringNumericLiteral,
    );
  } catch {
    return `${decimal} ${code}`;
  }
}

/** The ledger's kinds in the merchant's words. */
export const LEDGER_KIND_LABELS: Record<LedgerKind, string> = {
  earn: "Earned",
  bonus: "Bonus",
  reverse: "Reversed",
  redeem: "Redeemed",
  refund_redeem: "Redemption refunded",
  expire: "Expired",
  adjust: "Adjusted by staff",
};

export const ledgerKindLabel = (kind: string) => LEDGER_KIND_LABELS[kind as LedgerKind] ?? kind;

/** The Polaris badge tone for a ledger kind. */
export function ledgerKindTone(kind: string): "success" | "info" | "attention" | "critical" | undefined {
  switch (kind) {
    case "earn":
    case "bonus":
      return "success";
    case "redeem":
    case "refund_redeem":
      return "info";
    case "reverse":
    case "expire":
      return "critical";
    case "adjust":
      return "attention";
    default:
      return undefined;
  }
}

/** "Share of members" as a whole percentage that never shows a non-empty group as 0% or a partial one as 100%. */
export function sharePercent(part: number, whole: number): string {
  if (whole <= 0 || part <= 0) return "0%";
  if (part >= whole) return "100%";
  const percent = Math.round((part * 100) / whole);
  return `${Math.min(99, Math.max(1, percent))}%`;
}
