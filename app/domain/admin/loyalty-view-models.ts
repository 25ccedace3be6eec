// The shapes the loyalty pages render. app/services/admin-loyalty.server.ts builds them on the
// server with dates and money already formatted, so server rendering and hydration agree.
// Raw figures travel alongside the text where a test or a chart needs the number.
import type { FieldError, ProgramFormValues } from "../loyalty/program-form";

export type { FieldError, ProgramFormValues };

// ---------------------------------------------------------------- dashboard

/** One week of activity (Monday to Sunday in the program's time zone), points as positive numbers. */
export type LoyaltyWeek = { weekStart: string; label: string; issued: number; redeemed: number; reversed: number; expired: number };

export type LoyaltyTierShare = { tier: string | null; label: string; members: number; share: string; retired: boolean };

export type LoyaltyDashboardView = {
  program: { version: number; enabled: boolean; updatedAt: string; pointsPerUnit: string; pendingDays: number; timeZone: string };
  members: number;
  weeks: LoyaltyWeek[];
  totals: { issued: number; redeemed: number; reversed: number; expired: number };
  liability: {
    spendablePoints: number;
    pendingPoints: number;
    /** Points members owe (negative balances), not counted in the liability. */
    owedPoints: number;
    /** null when no fixed-amount reward gives a point a money value. */
    money: { spendable: string; pending: string; total: string; totalMinor: string; perPoint: string; basis: string } | null;
  };
  tiers: LoyaltyTierShare[] | null;
};

// ---------------------------------------------------------------- settings

export type SegmentOption = { id: string; name: string };

export type ProgramSettingsPageData = {
  /** The version the form was loaded from (null: no program yet): sent back to detect a concurrent save. */
  version: number | null;
  updatedAt: string | null;
  values: ProgramFormValues;
  currency: string;
  segments: SegmentOption[];
  /** The IANA zones the time zone select offers (from the server, so the HTML and the hydrated page list the same). */
  timeZones: string[];
  /** The shop's own zone (Shopify's Shop.ianaTimezone), labelled in the select. */
  shopTimeZone: string;
};

/** A failure names the version the form was based on (`basedOn`): once the page shows another version, it no longer applies. */
export type ProgramSaveResult =
  | { ok: true; version: number }
  | { ok: false; kind: "invalid"; basedOn: number | null; errors: FieldError[] }
  | { ok: false; kind: "conflict"; basedOn: number | null; message: string };

// ---------------------------------------------------------------- customer page

export type LedgerRowView = {
  id: string;
  date: string;
  kind: string;
  kindLabel: string;
  points: number;
  pointsText: string;
  reason: string;
  /** The order's name (#1001) when the entry came from an order. */
  orderName: string | null;
  /** When the points become spendable, while they are still pending. */
  pendingUntil: string | null;
  staff: string | null;
};

export type CustomerLoyaltyView = {
  programEnabled: boolean;
  balance: number;
  pending: number;
  tier: string | null;
  expiring: { points: number; on: string } | null;
  ledger: { rows: LedgerRowView[]; total: number; olderCursor: string | null; isFirstPage: boolean };
  /** Sent with the adjustment form: a double submission writes one adjustment. */
  adjustmentKey: string;
};

export type AdjustmentFormResult =
  | { intent: "adjust-points"; ok: true; points: number; balance: number }
  | { intent: "adjust-points"; ok: false; errors: { points?: string; reason?: string; form?: string } };
