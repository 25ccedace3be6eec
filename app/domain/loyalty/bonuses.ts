// Bonus points: first order, account creation (signup), birthday, feedback submitted.
// Each is keyed so a customer gets it at most once per subject. Pure: no I/O, no clock.
import { TZDate } from "@date-fns/tz";
import { DAY_MS } from "./earning";
import { ledgerKeys, statusFor, type BonusKind, type NewLedgerEntry } from "./ledger";
import { programInForce, type ProgramVersion } from "./program";

const REASONS: Record<BonusKind, string> = {
  first_order: "First order bonus",
  birthday: "Birthday bonus",
  signup: "Account creation bonus",
  feedback: "Feedback bonus",
};

const SETTING: Record<BonusKind, "firstOrder" | "birthday" | "signup" | "feedback"> = {
  first_order: "firstOrder",
  birthday: "birthday",
  signup: "signup",
  feedback: "feedback",
};

/**
 * A bonus entry, or null when the program in force at `occurredAt` is off or gives no such
 * bonus. `subject` makes the key: the customer (first order, signup), customer and year
 * (birthday), the feedback id (feedback).
 */
export function buildBonusEntry({
  kind,
  customerGid,
  subject,
  program,
  occurredAt,
  availableAt = occurredAt,
  source,
  orderGid = null,
  now,
}: {
  kind: BonusKind;
  customerGid: string;
  subject: string;
  program: ProgramVersion | null;
  occurredAt: Date;
  availableAt?: Date;
  source: string;
  orderGid?: string | null;
  now: Date;
}): NewLedgerEntry | null {
  if (!program || !program.settings.enabled) return null;
  const points = program.settings.bonuses[SETTING[kind]];
  if (points <= 0) return null;
  return {
    customerGid,
    points,
    kind: "bonus",
    status: statusFor(availableAt, now),
    availableAt,
    occurredAt,
    source,
    orderGid,
    reason: REASONS[kind],
    rule: { bonus: kind, programVersion: program.version, points },
    idempotencyKey: ledgerKeys.bonus(kind, subject),
  };
}

/** Account creation: for a customer created while a program with a signup bonus was in force. */
export function buildSignupBonus({ customerGid, createdAt, versions, now }: { customerGid: string; createdAt: Date; versions: readonly ProgramVersion[]; now: Date }): NewLedgerEntry | null {
  return buildBonusEntry({ kind: "signup", customerGid, subject: customerGid, program: programInForce({ versions, at: createdAt }), occurredAt: createdAt, source: customerGid, now });
}

/** Feedback submitted (the hook for the feedback issue): once per feedback id. */
export function buildFeedbackBonus({ customerGid, feedbackId, submittedAt, versions, now }: { customerGid: string; feedbackId: string; submittedAt: Date; versions: readonly ProgramVersion[]; now: Date }): NewLedgerEntry | null {
  return buildBonusEntry({ kind: "feedback", customerGid, subject: feedbackId, program: programInForce({ versions, at: submittedAt }), occurredAt: submittedAt, source: `feedback:${feedbackId}`, now });
}

/** How long after the birthday a late run of the birthday job still awards it. */
export const BIRTHDAY_GRACE_DAYS = 7;

const BIRTHDAY = /^(?:\d{4}-)?(\d{2})-(\d{2})$/;

/** Whether a metafield value reads as a birthday ("YYYY-MM-DD" or "MM-DD", month 1-12, day 1-31). */
export function isBirthdayValue(value: string): boolean {
  const match = BIRTHDAY.exec(value.trim());
  if (!match) return false;
  const month = Number(match[1]);
  const day = Number(match[2]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/**
 * The birthday bonus for this year (in the program's time zone), when `now` is on the birthday
 * or within BIRTHDAY_GRACE_DAYS after it; keyed by customer and year, so once a year. A 29 February
 * birthday is celebrated on 28 February in other years. `birthday` is "YYYY-MM-DD" or "MM-DD"
 * (the customer metafield's date).
 */
export function buildBirthdayBonus({ customerGid, birthday, versions, now }: { customerGid: string; birthday: string; versions: readonly ProgramVersion[]; now: Date }): NewLedgerEntry | null {
  const match = BIRTHDAY.exec(birthday.trim());
  if (!match) throw new RangeError(`birthday must be YYYY-MM-DD or MM-DD, got ${JSON.stringify(birthday)}`);
  const month = Number(match[1]);
  const day = Number(match[2]);
  if (month < 1 || month > 12 || day < 1 || day > 31) throw new RangeError(`not a date: ${JSON.stringify(birthday)}`);
  const current = programInForce({ versions, at: now });
  if (!current) return null;
  const zone = current.settings.timeZone;
  const year = new TZDate(now.getTime(), zone).getFullYear();
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth && !(month === 2 && day === 29)) throw new RangeError(`not a date: ${JSON.stringify(birthday)}`);
  const celebrated = new TZDate(year, month - 1, Math.min(day, daysInMonth), zone);
  const at = new Date(celebrated.getTime());
  if (now.getTime() < at.getTime() || now.getTime() >= at.getTime() + BIRTHDAY_GRACE_DAYS * DAY_MS) return null;
  return buildBonusEntry({ kind: "birthday", customerGid, subject: `${customerGid}:${year}`, program: programInForce({ versions, at }), occurredAt: at, source: customerGid, now });
}
