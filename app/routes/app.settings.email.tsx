// /app/settings/email: the shop's email sender settings (sender name, reply-to, footer
// address, locale, staff alert address), the outbox counts, and "send a test email". Thin:
// authenticate, read the form, one service call.
import { useEffect, useState } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { Banner, BlockStack, Button, Card, FormLayout, InlineStack, Layout, Page, Text, TextField } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import { authenticate } from "../shopify.server";
import { getEmailSettingsPage, saveEmailSettingsForm, sendTestEmailForm, type EmailSettingsActionResult } from "../services/email/admin-email.server";

export const meta: MetaFunction = () => [{ title: "Email settings" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getEmailSettingsPage(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const fields: Record<string, string> = {};
  for (const [name, value] of await request.formData()) if (typeof value === "string") fields[name] = value;
  const result = fields.intent === "test" ? await sendTestEmailForm(session.shop, fields.testAddress ?? "") : await saveEmailSettingsForm(session.shop, fields);
  return json<EmailSettingsActionResult>(result, { status: result.ok ? 200 : 422 });
};

export default function EmailSettingsRoute() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const submit = useSubmit();
  const navigation = useNavigation();
  const shopify = useAppBridge();
  const [values, setValues] = useState({
    senderName: page.settings.senderName ?? "",
    replyTo: page.settings.replyTo ?? "",
    footerAddress: page.settings.footerAddress ?? "",
    locale: page.settings.locale,
    staffAlertAddress: page.settings.staffAlertAddress ?? "",
  });
  const [testAddress, setTestAddress] = useState(page.settings.staffAlertAddress ?? "");
  useEffect(() => {
    if (result?.ok) shopify.toast.show(result.message);
  }, [result, shopify]);
  const errors = result && !result.ok ? result.errors : {};
  const busy = navigation.state !== "idle";
  const field = (name: keyof typeof values) => ({
    value: values[name],
    onChange: (value: string) => setValues((v) => ({ ...v, [name]: value })),
    error: errors[name],
    autoComplete: "off",
  });
  const c = page.counts;
  return (
    <Page title="Email settings" backAction={{ content: "Settings", url: "/app/settings" }}>
      <Layout>
        {!page.smtpConfigured ? (
          <Layout.Section>
            <Banner tone="warning" title="Sending is off">
              <p>SMTP_URL is not set on this installation: emails are queued but not sent until it is.</p>
            </Banner>
          </Layout.Section>
        ) : null}
        <Layout.Section>
          <Card>
            <BlockStack gap="400">
              <Text as="h2" variant="headingMd">
                Sender
              </Text>
              <FormLayout>
                <TextField label="Sender name" helpText="Shown as the sender of your emails (your shop's name when empty)" {...field("senderName")} />
                <TextField label="Reply-to address" type="email" helpText="Where customers' replies go" {...field("replyTo")} />
                <TextField label="Footer address" multiline={2} helpText="Your postal address, shown in every email's footer" {...field("footerAddress")} />
                <TextField label="Language" helpText="BCP 47 language tag, e.g. en, es, pt-BR" {...field("locale")} />
                <TextField label="Staff alert address" type="email" helpText="Where alerts for your team go" {...field("staffAlertAddress")} />
              </FormLayout>
              <InlineStack align="end">
                <Button variant="primary" loading={busy} onClick={() => submit({ intent: "save", ...values }, { method: "post" })}>
                  Save
                </Button>
              </InlineStack>
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <BlockStack gap="400">
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  Emails
                </Text>
                <Text as="p">
                  {c.sent} sent, {c.pending + c.sending} waiting, {c.failed} failed, {c.cancelled} cancelled
                </Text>
              </BlockStack>
            </Card>
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  Send a test email
                </Text>
                <TextField label="To" type="email" value={testAddress} onChange={setTestAddress} error={errors.testAddress} autoComplete="email" />
                <Button loading={busy} onClick={() => submit({ intent: "test", testAddress }, { method: "post" })}>
                  Send test email
                </Button>
              </BlockStack>
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
