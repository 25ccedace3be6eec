// The staff alert for a new service-recovery case (category staff_alert): the score, the
// reasons and the comment (escaped by React), with a pointer to the case. English: it goes to
// the shop's staff.
import { Text } from "@react-email/components";
import type { ShopEmailSettings } from "../services/email/settings.server";
import { EmailLayout, renderEmail } from "./layout";

export type StaffAlertProps = {
  shopName: string;
  settings: ShopEmailSettings;
  caseId: string;
  nps: number;
  comment: string | null;
  reasons: string[];
  unsubscribeUrl: string;
};

const REASONS: Record<string, string> = { detractor: "a score of 6 or less", low_rating: "a product rated 1 or 2 stars", negative_text: "a clearly negative comment" };

export function StaffAlertEmail(props: StaffAlertProps) {
  return (
    <EmailLayout shopName={props.shopName} settings={{ ...props.settings, locale: "en" }} previewText={`Feedback case ${props.caseId}: score ${props.nps}`} unsubscribeUrl={props.unsubscribeUrl}>
      <Text style={{ fontSize: "16px", lineHeight: "24px" }}>A customer answered a feedback request with {props.reasons.map((r) => REASONS[r] ?? r).join(", ")}.</Text>
      <Text style={{ fontSize: "16px", lineHeight: "24px" }}>Score: {props.nps} / 10</Text>
      {props.comment ? <Text style={{ fontSize: "15px", lineHeight: "22px", whiteSpace: "pre-wrap" }}>&ldquo;{props.comment}&rdquo;</Text> : null}
      <Text style={{ fontSize: "14px", color: "#6b7280" }}>Case {props.caseId} is open in the CRM app.</Text>
    </EmailLayout>
  );
}

export async function renderStaffAlertEmail(props: StaffAlertProps) {
  const { html, text } = await renderEmail(<StaffAlertEmail {...props} />);
  return { subject: `Feedback case ${props.caseId}: score ${props.nps}/10 at ${props.shopName}`, html, text };
}
