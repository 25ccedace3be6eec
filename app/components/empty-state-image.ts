// A small inline illustration for Polaris EmptyState (which needs an image URL): a data
// URI, so the page never fetches an image from Shopify's CDN.
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160" viewBox="0 0 240 160">
<rect x="40" y="30" width="160" height="100" rx="14" fill="#f1f1f1" stroke="#d4d4d4" stroke-width="2"/>
<rect x="60" y="52" width="72" height="10" rx="5" fill="#c9c9c9"/>
<rect x="60" y="72" width="120" height="8" rx="4" fill="#e0e0e0"/>
<rect x="60" y="90" width="100" height="8" rx="4" fill="#e0e0e0"/>
<circle cx="178" cy="57" r="9" fill="#b5b5b5"/>
</svg>`;

export const EMPTY_STATE_IMAGE = `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
