// The customer page's feedback section: the customer's requests (status, rule, order) and
// their answers (score, comment, product ratings), with an open-case badge.
import { Badge, BlockStack, Button, Card, InlineStack, Text } from "@shopify/polaris";
import { AnswerDetails, NpsBadge } from "./ratings";
import { formatCount } from "./format";

type CustomerFeedback = {
  requests: {
    id: string;
    rule: string;
    orderName: string;
    status: string;
    skipReason: string | null;
    sentAt: string | null;
    answeredAt: string | null;
    answer: { nps: number; comment: string | null; sentiment: string | null; ratings: { title: string; rating: number; review: string | null }[] } | null;
    caseStatus: "open" | "resolved" | null;
  }[];
  openCases: number;
};

const STATUS: Record<string, string> = { scheduled: "Scheduled", sent: "Sent", reminded: "Reminded", answered: "Answered", skipped: "Skipped" };

export function CustomerFeedbackCard({ feedback }: { feedback: CustomerFeedback }) {
  return (
    <Card>
      <div data-customer-feedback>
        <BlockStack gap="300">
          <InlineStack align="space-between" blockAlign="center">
            <InlineStack gap="200" blockAlign="center">
              <Text as="h2" variant="headingMd">
                Feedback
              </Text>
              {feedback.openCases > 0 ? <Badge tone="warning">{`${formatCount(feedback.openCases)} open ${feedback.openCases === 1 ? "case" : "cases"}`}</Badge> : null}
            </InlineStack>
            {feedback.openCases > 0 ? (
              <Button url="/app/feedback/cases" variant="plain">
                Cases inbox
              </Button>
            ) : null}
          </InlineStack>
          {feedback.requests.length === 0 ? (
            <Text as="p" tone="subdued">
              No feedback requests for this customer.
            </Text>
          ) : (
            feedback.requests.map((r) => (
              <BlockStack gap="100" key={r.id}>
                <InlineStack gap="200" blockAlign="center" wrap>
                  <Text as="span" fontWeight="semibold">
                    Order {r.orderName}
                  </Text>
                  <Badge tone={r.status === "answered" ? "success" : undefined}>{STATUS[r.status] ?? r.status}</Badge>
                  {r.skipReason ? (
                    <Text as="span" variant="bodySm" tone="subdued">
                      {r.skipReason.replace(/_/g, " ")}
                    </Text>
                  ) : null}
                  {r.answer ? <NpsBadge nps={r.answer.nps} /> : null}
                  {r.caseStatus === "open" ? <Badge tone="warning">Open case</Badge> : r.caseStatus === "resolved" ? <Badge>Case resolved</Badge> : null}
                  <Text as="span" variant="bodySm" tone="subdued">
                    {r.rule}
                    {r.answeredAt ? ` · answered ${r.answeredAt}` : r.sentAt ? ` · sent ${r.sentAt}` : ""}
                  </Text>
                </InlineStack>
                {r.answer ? <AnswerDetails comment={r.answer.comment} ratings={r.answer.ratings} /> : null}
              </BlockStack>
            ))
          )}
        </BlockStack>
      </div>
    </Card>
  );
}
