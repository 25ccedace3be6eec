// POST /proxy/loyalty/redeem (the shop's /apps/crm/loyalty/redeem through the app proxy):
// redeems one reward for the signed-in customer and answers the discount code. Body: JSON
// { rewardId, requestKey? }. Thin: the gate, the body parsed with zod (any customer named in
// it must be the signed one), one service call.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import {
  CLAIMED_CUSTOMER_PARAMS,
  answerProxyRequest,
  proxyError,
  proxyJson,
  requireAppProxyCustomer,
  requireSameCustomer,
} from "../shopify/app-proxy.server";
import { redeemForStorefront } from "../services/loyalty/storefront.server";

const MAX_BODY_BYTES = 4096;

const RedeemBodySchema = z
  .object({
    rewardId: z.string({ error: "rewardId is required" }).trim().min(1, "rewardId is required").max(64, "rewardId has at most 64 characters"),
    /** Fresh per click: a retried request returns the same redemption instead of spending twice. */
    requestKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]{8,100}$/, "requestKey must be 8-100 letters, digits, - or _")
      .optional(),
  })
  .strict();

export const action = ({ request }: ActionFunctionArgs) =>
  answerProxyRequest(request, async () => {
    const proxy = await requireAppProxyCustomer(request);
    if (request.method !== "POST") return proxyError(405, "method_not_allowed", "redeem with POST");
    // JSON only: a plain HTML form on another site cannot send it without the browser's
    // CORS preflight, which the store does not grant (no cross-site redemption).
    const contentType = request.headers.get("content-type") ?? "";
    if (!/^application\/json\b/i.test(contentType)) return proxyError(415, "unsupported_media_type", "send the request body as JSON (Content-Type: application/json)");
    const text = await request.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) return proxyError(413, "payload_too_large", `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return proxyError(400, "invalid_request", "the request body is not valid JSON");
    }
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) return proxyError(400, "invalid_request", "the request body must be a JSON object");
    const fields = { ...(raw as Record<string, unknown>) };
    for (const name of CLAIMED_CUSTOMER_PARAMS) {
      requireSameCustomer(proxy, fields[name], `body field ${name}`);
      delete fields[name];
    }
    const parsed = RedeemBodySchema.safeParse(fields);
    if (!parsed.success) {
      const message = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
      return proxyError(400, "invalid_request", message);
    }
    const result = await redeemForStorefront({ shop: proxy.shop, customerGid: proxy.customerGid, ...parsed.data });
    return proxyJson(result);
  });

export const loader = ({ request }: LoaderFunctionArgs) =>
  answerProxyRequest(request, async () => {
    await requireAppProxyCustomer(request);
    return proxyError(405, "method_not_allowed", "redeem with POST");
  });
