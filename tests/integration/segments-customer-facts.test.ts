// The customer facts of issue 16 through the real pipeline (signed deliveries, inbox, worker,
// apply step, segment re-evaluation in the same batch): cities and regions from the customer's
// addresses, SMS consent from customers_marketing_consent/update, the language from an order's
// and a checkout's locale, and abandoned checkouts (checkouts/create|update on
// /webhooks/checkouts), which an order from the checkout closes, whichever arrives first.
import { describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { createSegment } from "../../app/services/segments/segments.server";
import { checkoutPayload, customerPayload, orderPayload, smsConsentPayload } from "../support/factories";
import { deliverAndSettle, setUpPipelineHarness } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

setUpPipelineHarness();

const lena = { id: 7601n, email: "lena.facts@example.com", firstName: "Lena", city: "Los Angeles", provinceCode: "CA", countryCode: "US" };
const omar = { id: 7602n, email: "omar.facts@example.com", firstName: "Omar", city: "Toronto", provinceCode: "ON", countryCode: "CA" };
const LENA = "gid://shopify/Customer/7601";
const OMAR = "gid://shopify/Customer/7602";
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
const HOUR = 3_600_000;

async function segmentsOf(gid: string): Promise<string[]> {
  const { rows } = await getPool().query<{ name: string }>(
    `SELECT s.name FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE m.shop = $1 AND m.customer_gid = $2 ORDER BY s.name`,
    [TEST_SHOP, gid],
  );
  return rows.map((r) => r.name);
}

describe("segments on the customer facts of issue 16 follow the webhooks", () => {
  it("cities, regions, SMS consent, language and abandoned checkouts move membership in the apply step", async () => {
    for (const [name, query] of [
      ["a los angeles", "customer_cities CONTAINS 'US-CA-LosAngeles'"],
      ["b ontario", "customer_regions CONTAINS 'CA-ON'"],
      ["c sms", "sms_subscription_status = 'SUBSCRIBED'"],
      ["d french", "customer_language = 'fr-CA'"],
      ["e abandoned this week", "abandoned_checkout_date >= -7d"],
    ]) {
      await createSegment({ shop: TEST_SHOP, name: name!, query: query! });
    }
    await deliverAndSettle("customers/create", customerPayload(lena));
    await deliverAndSettle("customers/create", customerPayload(omar));
    expect(await segmentsOf(LENA)).toEqual(["a los angeles"]);
    expect(await segmentsOf(OMAR)).toEqual(["b ontario"]);

    // SMS consent, newest consent time wins (a stale one changes nothing).
    await deliverAndSettle("customers_marketing_consent/update", smsConsentPayload({ customerId: lena.id, state: "subscribed", updatedAt: iso(2 * HOUR) }));
    await deliverAndSettle("customers_marketing_consent/update", smsConsentPayload({ customerId: lena.id, state: "unsubscribed", updatedAt: iso(3 * HOUR) }));
    expect(await segmentsOf(LENA)).toEqual(["a los angeles", "c sms"]);

    // A checkout left open: abandoned. Its locale is the customer's language.
    await deliverAndSettle("checkouts/create", checkoutPayload({ token: "tok-lena-1", customer: lena, createdAt: iso(5 * HOUR), locale: "fr-CA" }));
    expect(await segmentsOf(LENA)).toEqual(["a los angeles", "c sms", "d french", "e abandoned this week"]);
    // The order from that checkout arrives: no longer abandoned; the order's locale is newer.
    await deliverAndSettle("orders/create", orderPayload({ id: 760101n, customer: lena, totalPrice: "42.00", createdAt: iso(HOUR), checkoutToken: "tok-lena-1", locale: "en" }));
    expect(await segmentsOf(LENA)).toEqual(["a los angeles", "c sms"]);
    // A late checkouts/update for it (not completed in its payload) keeps it closed.
    await deliverAndSettle("checkouts/update", checkoutPayload({ token: "tok-lena-1", customer: lena, createdAt: iso(5 * HOUR), updatedAt: iso(4 * HOUR) }));
    expect(await segmentsOf(LENA)).toEqual(["a los angeles", "c sms"]);

    // Order first, its checkout later: never abandoned. A completed checkout is not abandoned either.
    await deliverAndSettle("orders/create", orderPayload({ id: 760201n, customer: omar, totalPrice: "10.00", createdAt: iso(HOUR), checkoutToken: "tok-omar-1" }));
    await deliverAndSettle("checkouts/update", checkoutPayload({ token: "tok-omar-1", customer: omar, createdAt: iso(2 * HOUR) }));
    await deliverAndSettle("checkouts/update", checkoutPayload({ token: "tok-omar-2", customer: omar, createdAt: iso(2 * HOUR), completedAt: iso(HOUR) }));
    expect(await segmentsOf(OMAR)).toEqual(["b ontario"]);
    // An old abandoned checkout: a fact, but outside "this week".
    await deliverAndSettle("checkouts/create", checkoutPayload({ token: "tok-omar-3", customer: omar, createdAt: iso(30 * 24 * HOUR) }));
    expect(await segmentsOf(OMAR)).toEqual(["b ontario"]);
    const { rows } = await getPool().query(
      `SELECT token, customer_gid, completed_at IS NOT NULL AS completed, order_gid FROM checkouts WHERE shop = $1 ORDER BY token`,
      [TEST_SHOP],
    );
    expect(rows).toEqual([
      { token: "tok-lena-1", customer_gid: LENA, completed: false, order_gid: "gid://shopify/Order/760101" },
      { token: "tok-omar-1", customer_gid: OMAR, completed: false, order_gid: "gid://shopify/Order/760201" },
      { token: "tok-omar-2", customer_gid: OMAR, completed: true, order_gid: null },
      { token: "tok-omar-3", customer_gid: OMAR, completed: false, order_gid: null },
    ]);
    const { rows: kept } = await getPool().query(`SELECT gid, abandoned_checkout_at FROM customers WHERE shop = $1 AND gid = ANY($2) ORDER BY gid`, [TEST_SHOP, [LENA, OMAR]]);
    const { rows: omar3 } = await getPool().query(`SELECT shopify_updated_at FROM checkouts WHERE shop = $1 AND token = 'tok-omar-3'`, [TEST_SHOP]);
    expect(kept).toEqual([{ gid: LENA, abandoned_checkout_at: null }, { gid: OMAR, abandoned_checkout_at: omar3[0]!.shopify_updated_at }]);
    const { rows: facts } = await getPool().query(`SELECT gid, sms_marketing_state, locale, segment_regions, segment_cities FROM customers WHERE shop = $1 AND gid = ANY($2) ORDER BY gid`, [
      TEST_SHOP,
      [LENA, OMAR],
    ]);
    expect(facts).toEqual([
      { gid: LENA, sms_marketing_state: "subscribed", locale: "en", segment_regions: ["us-ca"], segment_cities: ["us-ca-losangeles"] },
      { gid: OMAR, sms_marketing_state: null, locale: "en", segment_regions: ["ca-on"], segment_cities: ["ca-on-toronto"] },
    ]);
  });
});
