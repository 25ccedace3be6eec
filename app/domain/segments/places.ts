// Keys for customer_regions and customer_cities (docs/segments.md). Shopify writes a region as
// country code and region code ('CA-ON') and a city as country, region and city code
// ('US-CA-LosAngeles'). The app derives the same shape from each stored address (country code,
// province code, city as written) and compares keys: lower case, without spaces and the
// punctuation of place names, so 'US-CA-LosAngeles', 'us-ca-los angeles' and an address in
// "Los Angeles", California, agree. An address without a province has the city key 'CC-City'.
// PostgreSQL computes the stored keys with the same rule (migration
// 20261208030000_segment_customer_facts, segment_place_part): the differential test holds the two together.

/** A place as an address gives it. */
export type SegmentPlace = { readonly countryCode: string | null; readonly province: string | null; readonly city: string | null };

const PLACE_NOISE = /[\s.,'’"()&/_-]+/g;

/** One part of a key: lower case, spaces and punctuation removed ("Los Angeles" -> "losangeles"). */
export function placeKeyPart(part: string | null): string {
  return (part ?? "").trim().replace(PLACE_NOISE, "").toLowerCase();
}

const countryPart = (code: string | null) => (code ?? "").trim().toLowerCase();

/** The region keys of a customer's places ('ca-on'), without repeats. */
export function regionKeysOf(places: readonly SegmentPlace[]): string[] {
  const keys = new Set<string>();
  for (const place of places) {
    const country = countryPart(place.countryCode);
    const region = placeKeyPart(place.province);
    if (country !== "" && region !== "") keys.add(`${country}-${region}`);
  }
  return [...keys];
}

/** The city keys of a customer's places ('us-ca-losangeles', or 'de-berlin' without a province). */
export function cityKeysOf(places: readonly SegmentPlace[]): string[] {
  const keys = new Set<string>();
  for (const place of places) {
    const country = countryPart(place.countryCode);
    const region = placeKeyPart(place.province);
    const city = placeKeyPart(place.city);
    if (country !== "" && city !== "") keys.add(region === "" ? `${country}-${city}` : `${country}-${region}-${city}`);
  }
  return [...keys];
}

/** A queried region ('CA-ON') as a key: the country, then the rest as one part. */
export function regionKeyOfValue(value: string): string {
  const dash = value.indexOf("-");
  if (dash < 0) return placeKeyPart(value);
  return `${countryPart(value.slice(0, dash))}-${placeKeyPart(value.slice(dash + 1))}`;
}

/**
 * A queried city ('US-CA-LosAngeles', 'DE-Berlin') as a key: country, region, then the rest
 * as the city (a hyphen inside a city name, 'FR-ARA-Saint-Étienne', is punctuation).
 */
export function cityKeyOfValue(value: string): string {
  const parts = value.split("-");
  if (parts.length < 2) return placeKeyPart(value);
  if (parts.length === 2) return `${countryPart(parts[0]!)}-${placeKeyPart(parts[1]!)}`;
  const region = placeKeyPart(parts[1]!);
  const city = placeKeyPart(parts.slice(2).join("-"));
  return region === "" ? `${countryPart(parts[0]!)}-${city}` : `${countryPart(parts[0]!)}-${region}-${city}`;
}
