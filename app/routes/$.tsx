// Any address no other route answers: a 404 that the root boundary shows as a friendly
// "Page not found" page (app/root.tsx). A thrown Response is not an error to log, so an
// unknown path no longer writes Remix's "No route matches URL" stack trace. Any method:
// a POST to an unknown address is a 404 too, not a logged 405.
const notFound = () => {
  throw new Response("Not Found", { status: 404 });
};
export const loader = notFound;
export const action = notFound;

// A default export makes this a page route, so the thrown 404 renders the root boundary
// (a resource route would hand the bare text back).
export default function NotFound() {
  return null;
}
