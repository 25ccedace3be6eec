// GET /proxy/loyalty: the storefront block's state, reached from the shop as
// /apps/crm/loyalty through the Shopify app proxy (shopify.app.toml [app_proxy]). Thin: the
// gate (signature, installed shop, signed-in customer) and one service call.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { answerProxyRequest, proxyError, proxyJson, requireAppProxyCustomer } from "../shopify/app-proxy.server";
import { getStorefrontLoyalty } from "../services/loyalty/storefront.server";

export const loader = ({ request }: LoaderFunctionArgs) =>
  answerProxyRequest(request, async () => {
    const { shop, customerGid } = await requireAppProxyCustomer(request);
    return proxyJson(await getStorefrontLoyalty({ shop, customerGid }));
  });

export const action = ({ request }: ActionFunctionArgs) =>
  answerProxyRequest(request, async () => {
    await requireAppProxyCustomer(request);
    return proxyError(405, "method_not_allowed", "use GET to read your points, or POST to /apps/crm/loyalty/redeem to redeem a reward");
  });
