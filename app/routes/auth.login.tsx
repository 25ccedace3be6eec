// GET/POST /auth/login: the shop-domain form Shopify's app template has. The Shopify package
// sends a document request without a usable shop (a reload outside the admin, a bookmark,
// an expired link) here; `login(request)` answers the form, or redirects a valid shop to
// Shopify to open (or install) the app. authenticate.admin must never run on this path.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { BlockStack, Button, Card, FormLayout, Page, Text, TextField } from "@shopify/polaris";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import polarisStyles from "@shopify/polaris/build/esm/styles.css";
import { login } from "../shopify.server";
import { getEnv } from "../env.server";
import { loginErrorMessages } from "../shopify/login-errors";
import { twinAdminUrlForInstallRedirect } from "../shopify/twin-fetch.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

async function answerLogin(request: Request) {
  try {
    return { errors: loginErrorMessages(await login(request)) };
  } catch (thrown) {
    // With the local Shopify twin (development, the demo), open the app in the twin's admin
    // instead of admin.shopify.com, which is not reachable there.
    const twin = getEnv().SHOPIFY_TWIN_URL;
    const twinAdmin = twin && thrown instanceof Response ? twinAdminUrlForInstallRedirect(thrown.headers.get("location"), twin) : null;
    if (twinAdmin) throw redirect(twinAdmin);
    throw thrown;
  }
}

export const loader = ({ request }: LoaderFunctionArgs) => answerLogin(request);
export const action = ({ request }: ActionFunctionArgs) => answerLogin(request);

export default function Login() {
  const loaderData = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const errors = actionData?.errors ?? loaderData.errors;
  const [shop, setShop] = useState("");
  return (
    // Outside the admin: Polaris with its English strings, no App Bridge (the key is unused).
    <AppProvider isEmbeddedApp={false} apiKey="">
      <Page narrowWidth>
        <BlockStack gap="400">
          <Text as="h1" variant="headingLg">
            Log in
          </Text>
          <Card>
            <Form method="post">
              <FormLayout>
                <Text as="p" variant="bodyMd">
                  Open the CRM from your Shopify admin, or enter your shop domain to go there.
                </Text>
                <TextField
                  type="text"
                  name="shop"
                  label="Shop domain"
                  helpText="example.myshopify.com"
                  value={shop}
                  onChange={setShop}
                  autoComplete="on"
                  error={errors.shop}
                />
                <Button submit variant="primary">
                  Log in
                </Button>
              </FormLayout>
            </Form>
          </Card>
        </BlockStack>
      </Page>
    </AppProvider>
  );
}
