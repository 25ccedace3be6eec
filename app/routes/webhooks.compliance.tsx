// Thin adapter: every webhook subscription in shopify.app.toml ends here.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { receiveWebhook } from "../services/webhook-ingress.server";

export const action = ({ request }: ActionFunctionArgs) => receiveWebhook(request);
export const loader = ({ request }: LoaderFunctionArgs) => receiveWebhook(request);
