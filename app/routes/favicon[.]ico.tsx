// GET /favicon.ico: browsers ask for it on every page outside the admin (the login page,
// error pages). The app has no icon of its own (the Shopify admin shows the app's icon
// from the Partner Dashboard), so: 204 No Content, cached for a day, nothing logged.
export const loader = () => new Response(null, { status: 204, headers: { "cache-control": "public, max-age=86400" } });
