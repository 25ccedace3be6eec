// The layout every email of the app uses (React Email; decision 029): a single 600 px
// column that shrinks to the screen on mobile, the shop's name at the top, and a footer
// with the shop's postal address and the one-click unsubscribe link. Templates
// (app/emails/*.tsx) render their content as its children; renderEmail gives the HTML and
// the plain-text part of the message.
import { Body, Container, Head, Hr, Html, Link, Preview, Section, Text } from "@react-email/components";
import { render } from "@react-email/render";
import type * as React from "react";
import type { ShopEmailSettings } from "../services/email/settings.server";

/** The layout's own words, per language (the first subtag of the shop's locale; English otherwise). */
const FOOTER: Record<string, { why: (shop: string) => string; unsubscribe: string }> = {
  en: { why: (shop) => `You receive this email because you shopped at ${shop}.`, unsubscribe: "Unsubscribe" },
  es: { why: (shop) => `Recibes este correo porque compraste en ${shop}.`, unsubscribe: "Darse de baja" },
  pt: { why: (shop) => `Você recebe este e-mail porque comprou em ${shop}.`, unsubscribe: "Cancelar inscrição" },
  fr: { why: (shop) => `Vous recevez cet e-mail car vous avez acheté chez ${shop}.`, unsubscribe: "Se désabonner" },
  de: { why: (shop) => `Sie erhalten diese E-Mail, weil Sie bei ${shop} eingekauft haben.`, unsubscribe: "Abmelden" },
};

export function footerWords(locale: string) {
  return FOOTER[locale.split("-")[0]!.toLowerCase()] ?? FOOTER.en!;
}

const main: React.CSSProperties = {
  backgroundColor: "#f4f4f5",
  fontFamily: '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif',
  margin: 0,
  padding: "24px 0",
};
const container: React.CSSProperties = { backgroundColor: "#ffffff", maxWidth: "600px", width: "100%", margin: "0 auto", padding: "24px", borderRadius: "8px" };
const header: React.CSSProperties = { fontSize: "20px", fontWeight: 600, color: "#111827", margin: "0 0 16px" };
const footerText: React.CSSProperties = { fontSize: "12px", lineHeight: "18px", color: "#6b7280", margin: "4px 0" };

export function EmailLayout(props: { shopName: string; settings: ShopEmailSettings; previewText: string; unsubscribeUrl: string; children: React.ReactNode }): React.JSX.Element {
  const words = footerWords(props.settings.locale);
  return (
    <Html lang={props.settings.locale}>
      <Head>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </Head>
      <Preview>{props.previewText}</Preview>
      <Body style={main}>
        <Container style={container}>
          <Text style={header}>{props.shopName}</Text>
          <Section>{props.children}</Section>
          <Hr style={{ borderColor: "#e5e7eb", margin: "24px 0 12px" }} />
          <Section>
            <Text style={footerText}>{words.why(props.shopName)}</Text>
            {props.settings.footerAddress ? <Text style={footerText}>{props.settings.footerAddress}</Text> : null}
            <Text style={footerText}>
              <Link href={props.unsubscribeUrl} style={{ color: "#6b7280", textDecoration: "underline" }}>
                {words.unsubscribe}
              </Link>
            </Text>
          </Section>
        </Container>
      </Body>
    </Html>
  );
}

/** The HTML part and the plain-text part of an email element. */
export async function renderEmail(element: React.ReactElement): Promise<{ html: string; text: string }> {
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  return { html, text };
}
