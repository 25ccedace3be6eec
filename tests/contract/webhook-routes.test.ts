// The ingress's route table (app/shopify/webhook-routes.ts) is shopify.app.toml's
// [[webhooks.subscriptions]]: same routes, same topics, every topic the worker maps.
import { describe, expect, it } from "vitest";
import { WEBHOOK_ROUTE_TOPICS } from "../../app/shopify/webhook-routes";
import { SUPPORTED_TOPICS } from "../../app/shopify/webhook-payloads";
import { readAppWebhookConfig } from "../twin/webhook-sender";

describe("webhook routes", () => {
  it("equal the subscriptions of shopify.app.toml", () => {
    const fromToml: Record<string, string[]> = {};
    for (const s of readAppWebhookConfig().subscriptions) (fromToml[s.uri.toLowerCase()] ??= []).push(...s.topics);
    const sorted = (table: Readonly<Record<string, readonly string[]>>) => Object.fromEntries(Object.entries(table).map(([uri, topics]) => [uri, [...topics].sort()]));
    expect(sorted(WEBHOOK_ROUTE_TOPICS)).toEqual(sorted(fromToml));
  });

  it("route every topic the worker maps, each on one route", () => {
    const routed = Object.values(WEBHOOK_ROUTE_TOPICS).flat();
    expect(new Set(routed).size).toBe(routed.length);
    expect([...routed].sort()).toEqual([...SUPPORTED_TOPICS].sort());
  });
});
