// The feedback request (and its reminders): greeting with the customer's first name, the order
// name, the products of the order (with their images when the app knows them) and the answer
// link, in the shop's locale (app/domain/feedback/translations.ts), inside the channel's layout.
import { Button, Img, Section, Text, Link } from "@react-email/components";
import type { ShopEmailSettings } from "../services/email/settings.server";
import { feedbackMessages } from "../domain/feedback/translations";
import { EmailLayout, renderEmail } from "./layout";

export type FeedbackRequestEmailProps = {
  shopName: string;
  settings: ShopEmailSettings;
  firstName: string | null;
  orderName: string;
  products: { title: string; imageUrl: string | null }[];
  answerUrl: string;
  unsubscribeUrl: string;
  /** 0 for the request, n for the n-th reminder. */
  reminder: number;
};

const text = { fontSize: "16px", lineHeight: "24px", color: "#111827" };

export function FeedbackRequestEmail(props: FeedbackRequestEmailProps) {
  const m = feedbackMessages(props.settings.locale);
  return (
    <EmailLayout shopName={props.shopName} settings={props.settings} previewText={m.emailPreview(props.orderName)} unsubscribeUrl={props.unsubscribeUrl}>
      <Text style={text}>{m.greeting(props.firstName)}</Text>
      <Text style={text}>{props.reminder > 0 ? m.reminderIntro(props.shopName, props.orderName) : m.emailIntro(props.shopName, props.orderName)}</Text>
      {props.products.length > 0 ? (
        <Section style={{ margin: "8px 0 16px" }}>
          <Text style={{ ...text, fontWeight: 600, margin: "0 0 4px" }}>{m.emailProductsHeading}</Text>
          {props.products.map((p, i) => (
            <Section key={i} style={{ margin: "6px 0" }}>
              {p.imageUrl ? <Img src={p.imageUrl} alt={p.title} width="80" style={{ maxWidth: "100%", borderRadius: "4px" }} /> : null}
              <Text style={{ fontSize: "14px", margin: "2px 0", color: "#374151" }}>{p.title}</Text>
            </Section>
          ))}
        </Section>
      ) : null}
      <Section style={{ margin: "16px 0" }}>
        <Button href={props.answerUrl} style={{ backgroundColor: "#111827", color: "#ffffff", padding: "12px 20px", borderRadius: "6px", fontSize: "16px", textDecoration: "none" }}>
          {m.emailButton}
        </Button>
      </Section>
      <Text style={{ fontSize: "13px", lineHeight: "20px", color: "#6b7280" }}>
        {m.emailLinkFallback} <Link href={props.answerUrl}>{props.answerUrl}</Link>
      </Text>
    </EmailLayout>
  );
}

export async function renderFeedbackRequestEmail(props: FeedbackRequestEmailProps) {
  const m = feedbackMessages(props.settings.locale);
  const { html, text: plain } = await renderEmail(<FeedbackRequestEmail {...props} />);
  return { subject: props.reminder > 0 ? m.reminderSubject(props.shopName) : m.emailSubject(props.shopName), html, text: plain };
}
