// The twin's shop-specific webhook subscriptions: webhookSubscriptionCreate, as a custom
// app's token uses it (`crm shop connect` subscribes the topics of shopify.app.toml, which
// such an app does not get from the toml). Kept apart from admin-resolvers.ts; the twin's
// field resolver consults WEBHOOK_SUBSCRIPTION_RESOLVERS first.
//
// Like Shopify: the topic is a WebhookSubscriptionTopic enum value (validated by the
// schema), the address must be an https URL (or http on localhost, as the twin serves
// local apps), and a second subscription of the same topic to the same address answers
// the userError "Address for this topic has already been taken".
import type { GraphQLResolveInfo } from "graphql";
import type { ShopState } from "./admin-state";
import type { TwinContext } from "./admin-resolvers";

export type TwinWebhookSubscription = { id: string; topic: string; uri: string; format: string; createdAt: string };

const subscriptions = new WeakMap<ShopState, TwinWebhookSubscription[]>();

/** The shop's webhook subscriptions, oldest first (tests read them). */
export function webhookSubscriptionsOf(shop: ShopState): TwinWebhookSubscription[] {
  let list = subscriptions.get(shop);
  if (!list) subscriptions.set(shop, (list = []));
  return list;
}

function acceptableUri(uri: string): boolean {
  try {
    const url = new URL(uri);
    if (url.protocol === "https:") return true;
    return url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1");
  } catch {
    return false;
  }
}

type Resolver = (source: unknown, args: Record<string, unknown>, ctx: TwinContext, info: GraphQLResolveInfo) => unknown;

function create(ctx: TwinContext, topic: string, input: { uri?: string | null; callbackUrl?: string | null; format?: string | null }) {
  const uri = input.uri ?? input.callbackUrl ?? "";
  if (!uri) return { webhookSubscription: null, userErrors: [{ field: ["webhookSubscription", "uri"], message: "Address can't be blank" }] };
  if (!acceptableUri(uri)) return { webhookSubscription: null, userErrors: [{ field: ["webhookSubscription", "uri"], message: "Address is invalid" }] };
  const list = webhookSubscriptionsOf(ctx.shop);
  if (list.some((s) => s.topic === topic && s.uri === uri))
    return { webhookSubscription: null, userErrors: [{ field: ["webhookSubscription", "callbackUrl"], message: "Address for this topic has already been taken" }] };
  const subscription: TwinWebhookSubscription = { id: ctx.shop.nextId(), topic, uri, format: input.format ?? "JSON", createdAt: ctx.shop.nowIso() };
  list.push(subscription);
  return { webhookSubscription: subscription, userErrors: [] };
}

export const WEBHOOK_SUBSCRIPTION_RESOLVERS: Record<string, Record<string, Resolver>> = {
  Mutation: {
    webhookSubscriptionCreate: (_s, a, ctx) => create(ctx, a.topic as string, (a.webhookSubscription ?? {}) as { uri?: string | null }),
  },
  WebhookSubscription: {
    id: (s) => `gid://shopify/WebhookSubscription/${(s as TwinWebhookSubscription).id}`,
    legacyResourceId: (s) => (s as TwinWebhookSubscription).id,
  },
};
