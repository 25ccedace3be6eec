// POST /flow/actions/award-points: the runtime_url of the "Award loyalty points" Flow action
// (extensions/crm-flow-award-points; decision 058). Shopify's signature is the authority (no
// session). Thin: method, raw body, one service call that checks the signature, parses the
// body and awards the points once per action_run_id.
import type { ActionFunctionArgs } from "@remix-run/node";
import { FLOW_SIGNATURE_HEADER, serveAwardPoints } from "../services/flow/actions.server";

export const action = async ({ request }: ActionFunctionArgs) => {
  if (request.method !== "POST") return Response.json({ error: "method_not_allowed" }, { status: 405 });
  const answer = await serveAwardPoints({ raw: await request.text(), signature: request.headers.get(FLOW_SIGNATURE_HEADER) });
  return Response.json(answer.body, { status: answer.status });
};

export const loader = () => Response.json({ error: "method_not_allowed" }, { status: 405 });
