// Display helpers for the feedback pages (pure, fixed locale, so the server's HTML and the
// hydrated page print the same text).
const LOCALE = "en-US";
const count = new Intl.NumberFormat(LOCALE);
const oneDecimal = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: "exceptZero" });
const twoDecimals = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(LOCALE, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** 1204 -> "1,204". */
export const formatCount = (n: number) => count.format(n);
/** NPS: 33.3 -> "+33.3", -10 -> "-10.0", null -> "—". */
export const formatNps = (n: number | null) => (n === null ? "—" : oneDecimal.format(n));
/** A percent given as 0-100: 42.5 -> "42.5%". */
export const formatPercent = (n: number | null) => (n === null ? "—" : percent.format(n / 100));
/** 4.5 -> "4.50". */
export const formatRating = (n: number | null) => (n === null ? "—" : twoDecimals.format(n));
/** 4 -> "★★★★☆". */
export const stars = (n: number) => "★".repeat(n) + "☆".repeat(Math.max(0, 5 - n));

export const npsTone = (nps: number): "success" | "attention" | "critical" => (nps >= 9 ? "success" : nps >= 7 ? "attention" : "critical");
export const npsGroupLabel = (nps: number) => (nps >= 9 ? "Promoter" : nps >= 7 ? "Passive" : "Detractor");

const REASONS: Record<string, string> = { detractor: "Low score", low_rating: "Low product rating", negative_text: "Negative comment" };
export const reasonLabel = (r: string) => REASONS[r] ?? r;

export const actorLabel = (actor: string | null) => (actor === null ? null : actor.startsWith("shopify-user:") ? `staff member ${actor.slice("shopify-user:".length)}` : actor);
