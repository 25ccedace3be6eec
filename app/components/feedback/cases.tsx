// The cases inbox: one card per case (customer, order, what they said, why it opened), with
// the staff note and the resolve / reopen action.
import { useState } from "react";
import { Badge, BlockStack, Box, Button, Card, InlineStack, Link, Text, TextField } from "@shopify/polaris";
import { AnswerDetails, NpsBadge } from "./ratings";
import { actorLabel, reasonLabel } from "./format";

export type CaseView = {
  id: string;
  status: "open" | "resolved";
  reasons: string[];
  customerId: string | null;
  customerName: string;
  orderName: string | null;
  nps: number;
  comment: string | null;
  ratings: { title: string; rating: number; review: string | null }[];
  staffNote: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  openedAt: string;
};

export function CaseCard({ c, busy, error, onSubmit }: { c: CaseView; busy: boolean; error: string | null; onSubmit: (fields: Record<string, string>) => void }) {
  const [note, setNote] = useState(c.staffNote ?? "");
  return (
    <Card>
      <div data-feedback-case={c.id}>
        <BlockStack gap="300">
          <InlineStack align="space-between" blockAlign="center" wrap>
            <InlineStack gap="200" blockAlign="center" wrap>
              {c.customerId ? (
                <Link url={`/app/customers/${c.customerId}`} removeUnderline>
                  {c.customerName}
                </Link>
              ) : (
                <Text as="span">{c.customerName}</Text>
              )}
              {c.orderName ? (
                <Text as="span" tone="subdued">
                  Order {c.orderName}
                </Text>
              ) : null}
              <NpsBadge nps={c.nps} />
              {c.reasons.map((r) => (
                <Badge key={r}>{reasonLabel(r)}</Badge>
              ))}
            </InlineStack>
            <Text as="span" variant="bodySm" tone="subdued">
              Opened {c.openedAt}
            </Text>
          </InlineStack>
          <AnswerDetails comment={c.comment} ratings={c.ratings} />
          {c.status === "resolved" ? (
            <Text as="p" variant="bodySm" tone="subdued">
              Resolved {c.resolvedAt} by {actorLabel(c.resolvedBy)}
            </Text>
          ) : null}
          <TextField label="Staff note" multiline={2} value={note} onChange={setNote} autoComplete="off" error={error ?? undefined} maxLength={2000} />
          <Box>
            <InlineStack gap="200" align="end">
              <Button disabled={busy} onClick={() => onSubmit({ intent: "note", caseId: c.id, note })}>
                Save note
              </Button>
              {c.status === "open" ? (
                <Button variant="primary" loading={busy} onClick={() => onSubmit({ intent: "resolve", caseId: c.id, note })}>
                  Resolve
                </Button>
              ) : (
                <Button loading={busy} onClick={() => onSubmit({ intent: "reopen", caseId: c.id })}>
                  Reopen
                </Button>
              )}
            </InlineStack>
          </Box>
        </BlockStack>
      </div>
    </Card>
  );
}
