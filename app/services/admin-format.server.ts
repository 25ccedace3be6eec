// Display helpers for the admin pages that are not numbers or dates: durations, Shopify's
// enum values, legacy ids. Counts, money, points and dates go through the one formatter,
// app/domain/format.ts, in the shop's locale and time zone.

/** 0.042 -> "42 ms", 4.2 -> "4.2 s", 75 -> "1 min 15 s", 7300 -> "2 h 1 min", 200000 -> "2 d 7 h". */
export function displayDuration(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small > 0 ? `${big} ${bigUnit} ${small} ${smallUnit}` : `${big} ${bigUnit}`;
  if (whole < 3600) return pair(Math.floor(whole / 60), "min", whole % 60, "s");
  if (whole < 86400) return pair(Math.floor(whole / 3600), "h", Math.floor((whole % 3600) / 60), "min");
  return pair(Math.floor(whole / 86400), "d", Math.floor((whole % 86400) / 3600), "h");
}

/** "partially_refunded" -> "Partially refunded"; "SUBSCRIBED" -> "Subscribed". */
export function displayEnum(value: string | null | undefined): string | null {
  if (!value) return null;
  const text = value.replace(/_/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "gid://shopify/Customer/123" -> "123". */
export function legacyIdOf(gid: string): string {
  return gid.slice(gid.lastIndexOf("/") + 1);
}
