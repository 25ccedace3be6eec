// GET/POST /feedback/:token: the public feedback answer page (no Shopify login, no App Bridge,
// no Polaris: plain HTML form and a small stylesheet, works without JavaScript). The token
// is the signed link from the email (app/services/feedback/links.server.ts). Thin: the body
// is size-checked and parsed, then one service call; a bad, expired or unknown link gets a
// clear page with 404/410, a bad answer 400/413/415, never a 500.
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import styles from "../styles/feedback.css";
import { feedbackMessages, type FeedbackMessages } from "../domain/feedback/translations";
import { MAX_COMMENT_CHARS, MAX_FORM_BYTES, MAX_REVIEW_CHARS } from "../domain/feedback/limits";
import { formFields, loadAnswerPage, submitAnswer, type AnswerView } from "../services/feedback/answers.server";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: styles }];

// Referrer policy same-origin, not no-referrer: the link's token never goes to another site,
// and the form's POST still carries the page's Origin. Under no-referrer Chromium sends
// `Origin: null` with the form's POST, which Remix refuses as cross-site (500): no answer
// could be saved from a real browser (tests/e2e/feedback-ui.test.ts).
export const meta: MetaFunction = () => [{ title: "Feedback" }, { name: "robots", content: "noindex" }, { name: "referrer", content: "same-origin" }];

const NO_STORE = { "cache-control": "no-store", "referrer-policy": "same-origin", "x-robots-tag": "noindex" };

type Problem = { problem: "invalid" | "expired"; locale: string };
type LoaderData = { view: AnswerView; saved: boolean } | Problem;
type ActionData = { errors: string[]; locale: string; status: number };

const problemOf = (status: 404 | 410, locale = "en"): Problem => ({ problem: status === 410 ? "expired" : "invalid", locale });

export const loader = async ({ params, request }: LoaderFunctionArgs) => {
  const page = await loadAnswerPage(params.token ?? "");
  if (!page.ok) return Response.json(problemOf(page.status), { status: page.status, headers: NO_STORE });
  const saved = new URL(request.url).searchParams.get("saved") === "1";
  return Response.json({ view: page, saved } satisfies LoaderData, { headers: NO_STORE });
};

const fail = (status: number, errors: string[], locale = "en") => Response.json({ errors, locale, status } satisfies ActionData, { status, headers: NO_STORE });

export const action = async ({ params, request }: ActionFunctionArgs) => {
  if (request.method !== "POST") return fail(405, ["method not allowed"]);
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) return fail(415, ["send the form as application/x-www-form-urlencoded"]);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_FORM_BYTES) return fail(413, [feedbackMessages("en").tooLong(MAX_COMMENT_CHARS)]);
  const body = await request.text();
  if (Buffer.byteLength(body) > MAX_FORM_BYTES) return fail(413, [feedbackMessages("en").tooLong(MAX_COMMENT_CHARS)]);
  const fields = formFields(new URLSearchParams(body));
  if ("duplicate" in fields) return fail(400, [`the field ${fields.duplicate.slice(0, 40)} was sent twice`]);
  const token = params.token ?? "";
  const result = await submitAnswer(token, fields);
  if (result.ok) return redirect(`/feedback/${token}?saved=1`, { status: 303, headers: NO_STORE });
  if (result.status === 400) return fail(400, result.errors);
  return Response.json(problemOf(result.status), { status: result.status, headers: NO_STORE });
};

function ProblemPage({ problem, locale }: Problem) {
  const m = feedbackMessages(locale);
  return (
    <div className="fb">
      <main lang={locale}>
        <div className="card" role="alert">
          <h1>{m.errorTitle}</h1>
          <p>{problem === "expired" ? m.expiredLink : m.invalidLink}</p>
        </div>
      </main>
    </div>
  );
}

function NpsScale({ m, shopName, value }: { m: FeedbackMessages; shopName: string; value: number | null }) {
  return (
    <fieldset>
      <legend id="nps-legend">{m.npsLegend(shopName)}</legend>
      <div className="scale">
        {Array.from({ length: 11 }, (_, n) => (
          <label key={n}>
            <input type="radio" name="nps" value={String(n)} defaultChecked={value === n} required />
            <span>{n}</span>
          </label>
        ))}
      </div>
      <div className="ends" aria-hidden="true">
        <span>{m.npsLow}</span>
        <span>{m.npsHigh}</span>
      </div>
    </fieldset>
  );
}

function Stars({ m, index, title, value }: { m: FeedbackMessages; index: number; title: string; value: number | null }) {
  return (
    <fieldset>
      <legend>{m.starsLegend(title)}</legend>
      <div className="stars">
        {[1, 2, 3, 4, 5].map((n) => (
          <label key={n}>
            <input type="radio" name={`rating-${index}`} value={String(n)} defaultChecked={value === n} />
            <span aria-hidden="true">{"★".repeat(n)}</span>
            <span className="visually-hidden">{m.star(n)}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export default function FeedbackAnswerPage() {
  const data = useLoaderData<LoaderData>();
  const posted = useActionData<ActionData | Problem>();
  if ("problem" in data) return <ProblemPage {...data} />;
  if (posted && "problem" in posted) return <ProblemPage {...posted} />;
  const { view, saved } = data;
  const m = feedbackMessages(view.locale);
  const answer = view.answer;
  return (
    <div className="fb">
      <main lang={view.locale}>
        <h1>{m.pageTitle(view.shopName)}</h1>
        {view.orderName ? <p>{m.pageIntro(view.orderName)}</p> : null}
        {saved ? (
          <p className="notice" role="status">
            {m.thanks} {m.thanksEdited}
          </p>
        ) : answer ? (
          <p className="hint">{m.editAgain}</p>
        ) : null}
        {posted && "errors" in posted ? (
          <div className="errors" role="alert">
            <p>{m.invalidAnswer}</p>
            <ul>
              {posted.errors.map((e, i) => (
                <li key={i}>{e}</li>
              ))}
            </ul>
          </div>
        ) : null}
        <form method="post" className="card">
          <NpsScale m={m} shopName={view.shopName} value={answer?.nps ?? null} />
          <label className="text-label" htmlFor="comment">
            {m.commentLabel}
          </label>
          <textarea id="comment" name="comment" maxLength={MAX_COMMENT_CHARS} defaultValue={answer?.comment ?? ""} aria-describedby="comment-hint" />
          <p className="hint" id="comment-hint">
            {m.commentHint(MAX_COMMENT_CHARS)}
          </p>
          {view.products.length > 0 ? <h2>{m.productsHeading}</h2> : null}
          {view.products.map((p, i) => (
            <div key={i}>
              <Stars m={m} index={i} title={p.title} value={answer?.ratings[i]?.rating ?? null} />
              <label className="text-label" htmlFor={`review-${i}`}>
                {m.reviewLabel(p.title)}
              </label>
              <textarea id={`review-${i}`} name={`review-${i}`} maxLength={MAX_REVIEW_CHARS} defaultValue={answer?.ratings[i]?.review ?? ""} />
            </div>
          ))}
          <p>
            <button type="submit">{answer ? m.update : m.submit}</button>
          </p>
        </form>
      </main>
    </div>
  );
}
