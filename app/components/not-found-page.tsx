import { Card, EmptyState, Page } from "@shopify/polaris";
import { EMPTY_STATE_IMAGE } from "./empty-state-image";

/** A Polaris page for a 404 inside the embedded app. */
export function NotFoundPage({ title, message, backUrl, backLabel }: { title: string; message: string; backUrl: string; backLabel: string }) {
  return (
    <Page title={title} backAction={{ content: backLabel, url: backUrl }}>
      <Card>
        <EmptyState heading={title} action={{ content: backLabel, url: backUrl }} image={EMPTY_STATE_IMAGE}>
          <p>{message}</p>
        </EmptyState>
      </Card>
    </Page>
  );
}
