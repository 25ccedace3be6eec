// Seeds a store for the Automations admin tests through the real pipeline (signed webhooks,
// applied by the in-process worker the caller started): customers, each with one or two orders
// placed a few days before `now`, so a "first order" rule's 30-day dry run has moments.
import { customerPayload, orderPayload } from "./factories";
import { deliverAndSettle } from "./pipeline";

const DAY = 86_400_000;

export const AUTOMATION_SEED = {
  /** Customers with their first order 3..(3+n) days ago; the first two also ordered again yesterday. */
  customers: [
    { id: 7401001n, firstName: "Ada", lastName: "First", email: "ada.first@example.com" },
    { id: 7401002n, firstName: "Ben", lastName: "Buyer", email: "ben.buyer@example.com" },
    { id: 7401003n, firstName: "Cy", lastName: "Once", email: "cy.once@example.com" },
    { id: 7401004n, firstName: "Di", lastName: "Once", email: "di.once@example.com" },
  ],
  /** A customer whose only order is 60 days old (outside a 30-day dry run). */
  old: { id: 7401009n, firstName: "Old", lastName: "Timer", email: "old.timer@example.com" },
};

export async function seedAutomationStore(shop: string, now: Date): Promise<void> {
  const iso = (msAgo: number) => new Date(now.getTime() - msAgo).toISOString();
  let orderId = 7501000n;
  const all = [...AUTOMATION_SEED.customers, AUTOMATION_SEED.old];
  for (const c of all) await deliverAndSettle("customers/create", customerPayload({ ...c, createdAt: iso(400 * DAY) }), { shop });
  for (const [i, c] of AUTOMATION_SEED.customers.entries()) {
    await deliverAndSettle("orders/create", orderPayload({ id: orderId++, customer: c, totalPrice: "40.00", createdAt: iso((3 + i) * DAY), updatedAt: iso((3 + i) * DAY) }), { shop });
    if (i < 2) await deliverAndSettle("orders/create", orderPayload({ id: orderId++, customer: c, totalPrice: "25.00", createdAt: iso(DAY), updatedAt: iso(DAY) }), { shop });
  }
  const old = AUTOMATION_SEED.old;
  await deliverAndSettle("orders/create", orderPayload({ id: orderId++, customer: old, totalPrice: "90.00", createdAt: iso(60 * DAY), updatedAt: iso(60 * DAY) }), { shop });
}
