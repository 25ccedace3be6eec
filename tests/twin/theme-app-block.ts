// Renders a theme app extension's block (extensions/{handle}/blocks/{name}.liquid) the way the
// Online Store does, minimally, with liquidjs (docs/decisions/022-liquid-renderer-for-the-twin.md):
// the block's `{% schema %}` read and removed, `block.settings` from the schema's defaults
// plus overrides, the `t` filter from the extension's locales/en.default.json, `asset_url`
// pointing at the twin's copy of the extension assets, and the schema's "javascript" and
// "stylesheet" injected as Shopify does. Strict: an unknown filter or variable is an error,
// so a typo in the block fails the test instead of rendering blank.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Liquid } from "liquidjs";
import { EXTENSIONS_DIR } from "./app-proxy";

export type BlockSchema = {
  name: string;
  target: "section" | "head" | "body";
  javascript?: string;
  stylesheet?: string;
  settings: { type: string; id: string; label: string; default?: unknown; info?: string }[];
};

const SCHEMA = /\{%-?\s*schema\s*-?%\}([\s\S]*?)\{%-?\s*endschema\s*-?%\}/;

/** The block's source split into its Liquid and its parsed schema (Shopify allows no Liquid inside the schema). */
export function readBlock(extension: string, block: string): { liquid: string; schema: BlockSchema } {
  const source = readFileSync(resolve(EXTENSIONS_DIR, extension, "blocks", `${block}.liquid`), "utf8");
  const match = SCHEMA.exec(source);
  if (!match) throw new Error(`${extension}/blocks/${block}.liquid has no {% schema %}`);
  return { liquid: source.replace(SCHEMA, ""), schema: JSON.parse(match[1]!) as BlockSchema };
}

function lookup(translations: unknown, key: string): string | undefined {
  let node = translations;
  for (const part of key.split(".")) {
    if (!node || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === "string" ? node : undefined;
}

export type RenderedBlock = { html: string; headTags: string; schema: BlockSchema };

export async function renderThemeAppBlock({
  extension,
  block,
  settings = {},
  customer = null,
  blockId = "AbCdEf123",
  locale = "en",
}: {
  extension: string;
  block: string;
  settings?: Record<string, unknown>;
  /** The signed-in customer as Liquid sees it (`customer`), or null. */
  customer?: { id: number | string; first_name?: string } | null;
  blockId?: string;
  locale?: string;
}): Promise<RenderedBlock> {
  const { liquid, schema } = readBlock(extension, block);
  const translations = JSON.parse(readFileSync(resolve(EXTENSIONS_DIR, extension, "locales", "en.default.json"), "utf8")) as unknown;
  const assetUrl = (file: string) => `/cdn/extensions/${extension}/assets/${file}`;
  const engine = new Liquid({ strictFilters: true, strictVariables: true, lenientIf: true, ownPropertyOnly: true });
  engine.registerFilter("t", (key: string) => {
    const text = lookup(translations, key);
    if (text === undefined) throw new Error(`translation missing: ${key} in ${extension}/locales/en.default.json`);
    return text;
  });
  engine.registerFilter("asset_url", assetUrl);

  const defaults = Object.fromEntries(schema.settings.filter((s) => s.default !== undefined).map((s) => [s.id, s.default]));
  const unknown = Object.keys(settings).filter((id) => !schema.settings.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`settings not in the block's schema: ${unknown.join(", ")}`);
  const html = await engine.parseAndRender(liquid, {
    block: { id: blockId, settings: { ...defaults, ...settings }, shopify_attributes: `data-shopify-editor-block='{"id":"${blockId}"}'` },
    customer,
    routes: { account_login_url: "/account/login", root_url: "/" },
    request: { locale: { iso_code: locale }, design_mode: false },
  });
  const headTags = [
    schema.stylesheet ? `<link rel="stylesheet" href="${assetUrl(schema.stylesheet)}">` : "",
    schema.javascript ? `<script src="${assetUrl(schema.javascript)}" defer></script>` : "",
  ].join("\n");
  return { html, headTags, schema };
}

/** A bare storefront page with one rendered app block in a section. */
export function storefrontPage({ title, block }: { title: string; block: RenderedBlock }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
${block.headTags}
</head>
<body>
<main>
<section class="shopify-section">
${block.html}
</section>
</main>
</body>
</html>
`;
}
