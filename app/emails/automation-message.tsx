// An automation's email (category "automation"): the merchant's subject and plain-text body
// from the rule, merge fields already filled in (app/domain/automations/rules.ts fillTemplate),
// one paragraph per blank-line-separated block, in the layout every email of the app uses.
import { Text } from "@react-email/components";
import type { ShopEmailSettings } from "../services/email/settings.server";
import { EmailLayout, renderEmail } from "./layout";

export type AutomationMessageProps = { shopName: string; settings: ShopEmailSettings; subject: string; body: string; unsubscribeUrl: string };

export function AutomationMessage(props: AutomationMessageProps) {
  const paragraphs = props.body.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p !== "");
  return (
    <EmailLayout shopName={props.shopName} settings={props.settings} previewText={props.subject} unsubscribeUrl={props.unsubscribeUrl}>
      {paragraphs.map((p, i) => (
        <Text key={i} style={{ fontSize: "16px", lineHeight: "24px" }}>
          {p}
        </Text>
      ))}
    </EmailLayout>
  );
}

export async function renderAutomationMessage(props: AutomationMessageProps) {
  const { html, text } = await renderEmail(<AutomationMessage {...props} />);
  return { subject: props.subject.replace(/[\r\n]+/g, " ").slice(0, 200), html, text };
}
