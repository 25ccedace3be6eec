// Metafields: metafieldsSet, standardMetafieldDefinitionEnable, owners' metafield(s), Metafield, MetafieldDefinition.
import { compareDigest, type Metafield, type MetafieldDefinition, type ShopState } from "../admin-state";
import { idResolver, legacy, page, parseGid, type ResolverMap, type Resolver, type TwinContext } from "./shared";

// ------------------------------------------------------------------ metafields

/** Valid metafield types (message text from conformance 2025-01/customers/customer-update-parity). */
export const METAFIELD_TYPES = [
  "antenna_gain", "area", "battery_charge_capacity", "battery_energy_capacity", "boolean", "capacitance", "color", "concentration",
  "data_storage_capacity", "data_transfer_rate", "date_time", "date", "dimension", "display_density", "distance", "duration",
  "electric_current", "electrical_resistance", "energy", "float", "frequency", "id", "illuminance", "inductance", "integer",
  "json_string", "json", "jurisdiction", "language", "link", "list.antenna_gain", "list.area", "list.battery_charge_capacity",
  "list.battery_energy_capacity", "list.boolean", "list.capacitance", "list.color", "list.concentration", "list.data_storage_capacity",
  "list.data_transfer_rate", "list.date_time", "list.date", "list.dimension", "list.display_density", "list.distance", "list.duration",
  "list.electric_current", "list.electrical_resistance", "list.energy", "list.frequency", "list.illuminance", "list.inductance",
  "list.jurisdiction", "list.link", "list.luminous_flux", "list.mass_flow_rate", "list.multi_line_text_field", "list.number_decimal",
  "list.number_integer", "list.power", "list.pressure", "list.rating", "list.resolution", "list.rotational_speed",
  "list.single_line_text_field", "list.sound_level", "list.speed", "list.temperature", "list.thermal_power", "list.url", "list.voltage",
  "list.volume", "list.volumetric_flow_rate", "list.weight", "luminous_flux", "mass_flow_rate", "money", "multi_line_text_field",
  "number_decimal", "number_integer", "power", "pressure", "rating", "resolution", "rich_text_field", "rotational_speed",
  "single_line_text_field", "sound_level", "speed", "string", "temperature", "thermal_power", "url", "voltage", "volume",
  "volumetric_flow_rate", "weight", "company_reference", "list.company_reference", "customer_reference", "list.customer_reference",
  "product_reference", "list.product_reference", "collection_reference", "list.collection_reference", "variant_reference",
  "list.variant_reference", "file_reference", "list.file_reference", "product_taxonomy_value_reference",
  "list.product_taxonomy_value_reference", "product_taxonomy_disclosure_reference", "metaobject_reference", "list.metaobject_reference",
  "mixed_reference", "list.mixed_reference", "disclosure_reference", "list.disclosure_reference", "page_reference", "list.page_reference",
  "article_reference", "list.article_reference", "order_reference", "list.order_reference",
];
export const METAFIELD_TYPE_SET = new Set(METAFIELD_TYPES);
export const METAFIELD_TYPE_MESSAGE = `Type must be one of the following: ${METAFIELD_TYPES.join(", ")}.`;

export function metafieldValueProblem(type: string, value: string): string | null {
  switch (type) {
    case "number_integer":
    case "integer":
      return /^-?\d+$/.test(value) ? null : "Value must be an integer.";
    case "number_decimal":
    case "float":
      return /^-?\d+(\.\d+)?$/.test(value) ? null : "Value must be a decimal.";
    case "boolean":
      return value === "true" || value === "false" ? null : "Value must be true or false.";
    case "json":
    case "json_string":
      try {
        JSON.parse(value);
        return null;
      } catch {
        return "Value is invalid JSON.";
      }
    case "single_line_text_field":
      return value.includes("\n") ? "Value cannot contain line breaks." : null;
    case "date":
      return /^\d{4}-\d{2}-\d{2}$/.test(value) ? null : "Value must be in YYYY-MM-DD format.";
    case "rating":
      return ratingValueProblem(value);
    case "date_time":
      return Number.isNaN(Date.parse(value)) ? "Value must be in YYYY-MM-DDTHH:MM:SS format." : null;
    default:
      return null;
  }
}

export const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A `rating` value: JSON {"value", "scale_min", "scale_max"}, decimals as strings, min < max, min <= value <= max. */
export function ratingValueProblem(value: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return "Value is invalid JSON.";
  }
  const r = parsed as Record<string, unknown> | null;
  if (!r || typeof r !== "object" || Array.isArray(r)) return "Value must be a rating object.";
  for (const k of ["value", "scale_min", "scale_max"]) {
    if (r[k] === undefined || r[k] === null) return `Value is missing the key '${k}'.`;
    if (!DECIMAL.test(String(r[k]))) return `Value '${k}' must be a decimal.`;
  }
  const [v, min, max] = [Number(r.value), Number(r.scale_min), Number(r.scale_max)];
  if (min >= max) return "Value scale_min must be less than scale_max.";
  if (v < min || v > max) return `Value must be between ${String(r.scale_min)} and ${String(r.scale_max)}.`;
  return null;
}

/** A value checked against a definition's validations (the standard review templates' only). */
export function definitionValueProblem(d: MetafieldDefinition, value: string): string | null {
  if (d.type === "rating") {
    const r = JSON.parse(value) as { value: string; scale_min: string; scale_max: string };
    if (Number(r.scale_min) !== Number(d.validations.scale_min) || Number(r.scale_max) !== Number(d.validations.scale_max))
      return `Value scale must be ${d.validations.scale_min} to ${d.validations.scale_max}.`;
  }
  if (d.type === "number_integer" && d.validations.min !== undefined && Number(value) < Number(d.validations.min)) return `Value must be greater than or equal to ${d.validations.min}.`;
  return null;
}

/**
 * The standard metafield definition templates the twin knows (Shopify's product review
 * templates; https://shopify.dev/apps/metafields/definitions/standard-definitions).
 */
export const STANDARD_DEFINITION_TEMPLATES: { ownerTypes: Metafield["ownerType"][]; namespace: string; key: string; name: string; type: string; validations: Record<string, string> }[] = [
  { ownerTypes: ["PRODUCT"], namespace: "reviews", key: "rating", name: "Product rating", type: "rating", validations: { scale_min: "1.0", scale_max: "5.0" } },
  { ownerTypes: ["PRODUCT"], namespace: "reviews", key: "rating_count", name: "Product rating count", type: "number_integer", validations: { min: "0" } },
];

export function standardMetafieldDefinitionEnable(ctx: TwinContext, a: { ownerType: string; id?: string | null; namespace?: string | null; key?: string | null }) {
  const shop = ctx.shop;
  const fail = (field: string[] | null, message: string, code: string) => ({ createdDefinition: null, userErrors: [{ field, message, code }] });
  if (!a.id && !(a.namespace && a.key)) return fail(null, "A namespace and key or standard metafield definition template ID is required.", "INVALID_INPUT_COMBINATION");
  const template = STANDARD_DEFINITION_TEMPLATES.find((t) => t.namespace === a.namespace && t.key === a.key && t.ownerTypes.includes(a.ownerType as Metafield["ownerType"]));
  if (!template) return fail(null, "A standard definition wasn't found for the specified owner type, namespace, and key.", "TEMPLATE_NOT_FOUND");
  const ownerType = a.ownerType as Metafield["ownerType"];
  if (shop.findDefinition(ownerType, template.namespace, template.key)) return fail(["key"], "Key is in use for Product metafields on the 'reviews' namespace.".replace("reviews", template.namespace), "TAKEN");
  const d: MetafieldDefinition = { id: shop.nextId(), ownerType, namespace: template.namespace, key: template.key, name: template.name, type: template.type, validations: { ...template.validations } };
  shop.putDefinition(d);
  return { createdDefinition: d, userErrors: [] };
}

export function resolveNamespace(ctx: TwinContext, namespace: string | null | undefined): string {
  const ns = namespace ?? "$app";
  if (ns === "$app") return `app--${ctx.appId}`;
  if (ns.startsWith("$app:")) return `app--${ctx.appId}--${ns.slice(5)}`;
  return ns;
}

export const OWNER_TYPES: Record<string, Metafield["ownerType"]> = { Customer: "CUSTOMER", Order: "ORDER", Product: "PRODUCT", DiscountCodeNode: "DISCOUNT" };

export function ownerExists(shop: ShopState, type: string, id: string): boolean {
  if (type === "Customer") return shop.customers.has(id);
  if (type === "Order") return shop.orders.has(id);
  if (type === "Product") return shop.products.has(id);
  if (type === "DiscountCodeNode") return shop.discounts.has(id);
  return false;
}

export type MetafieldInput = { ownerId?: string; namespace?: string | null; key: string; value: string; type?: string | null; compareDigest?: string | null };

export function upsertMetafield(ctx: TwinContext, ownerType: Metafield["ownerType"], ownerId: string, input: MetafieldInput): Metafield {
  const shop = ctx.shop;
  const namespace = resolveNamespace(ctx, input.namespace);
  const now = shop.nowIso();
  const existing = shop.findMetafield(ownerType, ownerId, namespace, input.key);
  const m: Metafield = existing
    ? { ...existing, value: input.value, type: input.type ?? existing.type, updatedAt: now }
    : { id: shop.nextId(), ownerType, ownerId, namespace, key: input.key, type: input.type ?? "single_line_text_field", value: input.value, createdAt: now, updatedAt: now };
  shop.putMetafield(m);
  return m;
}

export function metafieldJsonValue(m: Metafield): unknown {
  if (m.type === "number_integer" || m.type === "integer") return Number(m.value);
  if (m.type === "number_decimal" || m.type === "float") return m.value;
  if (m.type === "boolean") return m.value === "true";
  if (m.type === "json" || m.type === "json_string" || m.type === "rating" || m.type.startsWith("list.")) {
    try {
      return JSON.parse(m.value);
    } catch {
      return m.value;
    }
  }
  return m.value;
}

export const metafieldResolvers = (ownerType: Metafield["ownerType"]): Record<string, Resolver> => ({
  metafield: (s: { id: string }, args, ctx) => {
    const m = ctx.shop.findMetafield(ownerType, s.id, resolveNamespace(ctx, args.namespace as string | null), args.key as string);
    return m ?? null;
  },
  metafields: (s: { id: string }, args, ctx) => {
    let list = ctx.shop.metafieldsOf(ownerType, s.id);
    if (args.namespace) list = list.filter((m) => m.namespace === resolveNamespace(ctx, args.namespace as string));
    if (Array.isArray(args.keys)) list = list.filter((m) => (args.keys as string[]).includes(`${m.namespace}.${m.key}`));
    return page(list, args, (m) => m.id, (m) => m.id);
  },
});

export function metafieldsSet(ctx: TwinContext, inputs: MetafieldInput[]) {
  const shop = ctx.shop;
  const errors: { field: string[]; message: string; code: string; elementIndex: number }[] = [];
  const err = (i: number, field: string, message: string, code: string) => errors.push({ field: ["metafields", String(i), field], message, code, elementIndex: i });
  const resolved: { ownerType: Metafield["ownerType"]; ownerId: string; input: MetafieldInput }[] = [];
  inputs.forEach((m, i) => {
    const g = parseGid(m.ownerId);
    const ownerType = g ? OWNER_TYPES[g.type] : undefined;
    if (!g || !ownerType || !ownerExists(shop, g.type, g.id)) return err(i, "ownerId", "Owner does not exist.", "INVALID");
    const namespace = resolveNamespace(ctx, m.namespace);
    const existing = shop.findMetafield(ownerType, g.id, namespace, m.key);
    const definition = shop.findDefinition(ownerType, namespace, m.key);
    const type = m.type ?? definition?.type ?? existing?.type;
    if (definition && type !== definition.type) err(i, "type", `Type '${type}' does not match the definition's type '${definition.type}'.`, "INVALID_TYPE");
    if (!m.key || !m.key.trim()) err(i, "key", "Key can't be blank", "BLANK");
    else if (m.key.length < 2 || m.key.length > 64) err(i, "key", m.key.length < 2 ? "Key is too short (minimum is 2 characters)" : "Key is too long (maximum is 64 characters)", m.key.length < 2 ? "TOO_SHORT" : "TOO_LONG");
    if (namespace.length < 2) err(i, "namespace", "Namespace is too short (minimum is 2 characters)", "TOO_SHORT");
    if (!type) err(i, "type", "Type can't be blank", "BLANK");
    else if (!METAFIELD_TYPE_SET.has(type)) err(i, "type", METAFIELD_TYPE_MESSAGE, "INCLUSION");
    else {
      const problem = metafieldValueProblem(type, m.value) ?? (definition && definition.type === type ? definitionValueProblem(definition, m.value) : null);
      if (problem) err(i, "value", problem, "INVALID_VALUE");
    }
    if (m.compareDigest !== undefined) {
      const current = existing ? compareDigest(existing) : null;
      if (m.compareDigest !== current)
        err(i, "compareDigest", "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.", "STALE_OBJECT");
    }
    resolved.push({ ownerType, ownerId: g.id, input: { ...m, type } });
  });
  if (errors.length > 0) return { metafields: null, userErrors: errors };
  const out = resolved.map((r) => upsertMetafield(ctx, r.ownerType, r.ownerId, r.input));
  return { metafields: out, userErrors: [] };
}

export const metafieldResolverMap: ResolverMap = {
  Mutation: {
    metafieldsSet: (_s, a, ctx) => metafieldsSet(ctx, a.metafields as MetafieldInput[]),
    standardMetafieldDefinitionEnable: (_s, a, ctx) => standardMetafieldDefinitionEnable(ctx, a as { ownerType: string; namespace?: string | null; key?: string | null }),
  },
  MetafieldDefinition: {
    id: idResolver("MetafieldDefinition"),
    type: (d: MetafieldDefinition) => ({ name: d.type }),
  },
  Metafield: {
    id: idResolver("Metafield"),
    legacyResourceId: legacy,
    jsonValue: (m: Metafield) => metafieldJsonValue(m),
    compareDigest: (m: Metafield) => compareDigest(m),
  },
};
