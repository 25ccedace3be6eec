// A test email (category "test"): what the settings page's "send a test email" and the
// channel's own tests send. Shows the merge fields the layout supports.
import { Img, Link, Section, Text } from "@react-email/components";
import type { ShopEmailSettings } from "../services/email/settings.server";
import { EmailLayout, renderEmail } from "./layout";

export type TestEmailProps = {
  shopName: string;
  settings: ShopEmailSettings;
  firstName: string | null;
  orderName: string | null;
  products: { title: string; imageUrl: string | null; url: string | null }[];
  unsubscribeUrl: string;
};

export function TestEmail(props: TestEmailProps) {
  return (
    <EmailLayout shopName={props.shopName} settings={props.settings} previewText={`A test email from ${props.shopName}`} unsubscribeUrl={props.unsubscribeUrl}>
      <Text style={{ fontSize: "16px", lineHeight: "24px" }}>Hi {props.firstName ?? "there"},</Text>
      <Text style={{ fontSize: "16px", lineHeight: "24px" }}>
        This is a test email from {props.shopName}
        {props.orderName ? ` about order ${props.orderName}` : ""}.
      </Text>
      {props.products.map((p, i) => (
        <Section key={i} style={{ margin: "8px 0" }}>
          {p.imageUrl ? <Img src={p.imageUrl} alt={p.title} width="96" style={{ maxWidth: "100%", borderRadius: "4px" }} /> : null}
          <Text style={{ fontSize: "14px", margin: "4px 0" }}>{p.url ? <Link href={p.url}>{p.title}</Link> : p.title}</Text>
        </Section>
      ))}
    </EmailLayout>
  );
}

export async function renderTestEmail(props: TestEmailProps) {
  const { html, text } = await renderEmail(<TestEmail {...props} />);
  return { subject: `Test email from ${props.shopName}`, html, text };
}
