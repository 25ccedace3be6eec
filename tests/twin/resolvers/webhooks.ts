// Webhook subscriptions an app registers through the API (custom apps do not get the
// toml's): webhookSubscriptionCreate / Delete, webhookSubscription(s), webhookSubscriptionsCount.
// An app sees only its own subscriptions. Messages and fields from conformance
// 2026-04/webhooks (webhook-subscription-conformance, -uri-validation,
// -topic-format-name-validation `createDuplicateRejected`). The twin delivers its
// webhooks to them (../webhook-delivery.ts).
//
// One deliberate difference: Shopify accepts only https:// addresses; the twin also
// accepts http:// on loopback hosts (127.0.0.1, localhost, [::1]), where a local app listens.
import type { WebhookSubscriptionRecord } from "../admin-state";
import { topicName } from "../webhook-topics";
import { count, idResolver, legacy, page, parseGid, userError, type ResolverMap, type TwinContext } from "./shared";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const ADDRESS = ["webhookSubscription", "callbackUrl"];

/** The userError for an address Shopify refuses, or null. */
export function addressProblem(uri: string): string | null {
  if (!uri.trim()) return "Address can't be blank";
  const proto = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri.trim());
  if (!proto) return "Address is invalid";
  let url: URL;
  try {
    url = new URL(uri.trim());
  } catch {
    return "Address is invalid";
  }
  const scheme = proto[1]!.toLowerCase();
  if (scheme !== "https" && !(scheme === "http" && LOOPBACK.has(url.hostname))) return `Address protocol ${scheme}:// is not supported`;
  if (/(^|\.)(myshopify\.com|shopify\.com|shopifycloud\.com)$/i.test(url.hostname)) return "Address cannot be a Shopify or an internal domain";
  return null;
}

type SubscriptionInput = { uri?: string | null; callbackUrl?: string | null; format?: string | null; includeFields?: string[] | null; filter?: string | null; metafieldNamespaces?: string[] | null; name?: string | null };

function mine(ctx: TwinContext): WebhookSubscriptionRecord[] {
  return [...ctx.shop.webhookSubscriptions.values()].filter((w) => w.apiKey === ctx.caller.apiKey);
}

export function webhookSubscriptionCreate(ctx: TwinContext, topic: string, input: SubscriptionInput) {
  const uri = (input.uri ?? input.callbackUrl ?? "").trim();
  const problem = addressProblem(uri);
  if (problem) return { webhookSubscription: null, userErrors: [userError(ADDRESS, problem)] };
  if (!topicName(topic)) return { webhookSubscription: null, userErrors: [userError(["topic"], "Topic is not supported by the twin")] };
  if (mine(ctx).some((w) => w.topic === topic && w.uri === uri))
    return { webhookSubscription: null, userErrors: [userError(ADDRESS, "Address for this topic has already been taken")] };
  const now = ctx.shop.nowIso();
  const w: WebhookSubscriptionRecord = {
    id: ctx.shop.nextId(),
    topic,
    uri,
    format: input.format ?? "JSON",
    filter: input.filter ?? null,
    includeFields: input.includeFields ?? [],
    metafieldNamespaces: input.metafieldNamespaces ?? [],
    name: input.name ?? null,
    createdAt: now,
    updatedAt: now,
    apiVersion: ctx.apiVersion,
    apiKey: ctx.caller.apiKey,
    secret: ctx.caller.secret,
  };
  ctx.shop.webhookSubscriptions.set(w.id, w);
  return { webhookSubscription: w, userErrors: [] };
}

function listFor(ctx: TwinContext, a: Record<string, unknown>): WebhookSubscriptionRecord[] {
  let list = mine(ctx);
  if (Array.isArray(a.topics) && a.topics.length) list = list.filter((w) => (a.topics as string[]).includes(w.topic));
  const uri = (a.uri ?? a.callbackUrl) as string | null | undefined;
  if (uri) list = list.filter((w) => w.uri === uri);
  if (a.format) list = list.filter((w) => w.format === a.format);
  return list.sort((x, y) => (x.createdAt < y.createdAt ? -1 : x.createdAt > y.createdAt ? 1 : x.id.length - y.id.length || (x.id < y.id ? -1 : 1)));
}

export const webhookResolvers: ResolverMap = {
  QueryRoot: {
    webhookSubscription: (_s, a, ctx) => {
      const g = parseGid(a.id);
      const w = g?.type === "WebhookSubscription" ? ctx.shop.webhookSubscriptions.get(g.id) : undefined;
      return w && w.apiKey === ctx.caller.apiKey ? w : null;
    },
    webhookSubscriptions: (_s, a, ctx) => page(listFor(ctx, a), a, (w) => w.id, (w) => w.id, false),
    webhookSubscriptionsCount: (_s, a, ctx) => count(mine(ctx).length, a.limit),
  },
  Mutation: {
    webhookSubscriptionCreate: (_s, a, ctx) => webhookSubscriptionCreate(ctx, a.topic as string, a.webhookSubscription as SubscriptionInput),
    webhookSubscriptionDelete: (_s, a, ctx) => {
      const g = parseGid(a.id);
      const w = g?.type === "WebhookSubscription" ? ctx.shop.webhookSubscriptions.get(g.id) : undefined;
      if (!w || w.apiKey !== ctx.caller.apiKey) return { deletedWebhookSubscriptionId: null, userErrors: [userError(["id"], "Webhook subscription does not exist")] };
      ctx.shop.webhookSubscriptions.delete(w.id);
      return { deletedWebhookSubscriptionId: idResolver("WebhookSubscription")(w), userErrors: [] };
    },
  },
  WebhookSubscription: {
    id: idResolver("WebhookSubscription"),
    legacyResourceId: legacy,
    endpoint: (w: WebhookSubscriptionRecord) => ({ __typename: "WebhookHttpEndpoint", callbackUrl: w.uri }),
  },
};
