// Keys of customer_cities / customer_regions (app/domain/segments/places.ts) and the birth dates
// the birthday job stores for anniversary() (birthDateOf): table-driven, no I/O.
import { describe, expect, it } from "vitest";
import { anniversaryIn } from "../../app/domain/segments/anniversary";
import { cityKeyOfValue, cityKeysOf, placeKeyPart, regionKeyOfValue, regionKeysOf } from "../../app/domain/segments/places";
import { birthDateOf } from "../../app/services/loyalty/birthdays.server";

describe("place keys", () => {
  it.each([
    ["Los Angeles", "losangeles"],
    ["los-angeles", "losangeles"],
    [" St. John's ", "stjohns"],
    ["Saint-Étienne", "saintétienne"],
    ["Winston–Salem", "winston–salem"], // an en dash is not one of the stripped characters
    [null, ""],
  ])("placeKeyPart(%j) = %j", (part, key) => expect(placeKeyPart(part)).toBe(key));

  it.each([
    ["US-CA-LosAngeles", "us-ca-losangeles"],
    ["us-ca-los angeles", "us-ca-losangeles"],
    ["US-NY-NewYorkCity", "us-ny-newyorkcity"],
    ["FR-ARA-Saint-Étienne", "fr-ara-saintétienne"],
    ["DE-Berlin", "de-berlin"],
    ["DE--Berlin", "de-berlin"],
    ["Toronto", "toronto"],
  ])("a queried city %j is the key %j", (value, key) => expect(cityKeyOfValue(value)).toBe(key));

  it.each([
    ["CA-ON", "ca-on"],
    ["us-ny", "us-ny"],
    ["FR-Île-de-France", "fr-îledefrance"],
    ["DE", "de"],
  ])("a queried region %j is the key %j", (value, key) => expect(regionKeyOfValue(value)).toBe(key));

  it("derives each address's keys once, skipping addresses without a country or a city", () => {
    const places = [
      { countryCode: "US", province: "CA", city: "Los Angeles" },
      { countryCode: "us", province: "ca", city: "los angeles" },
      { countryCode: "DE", province: null, city: "Berlin" },
      { countryCode: null, province: "ON", city: "Toronto" },
      { countryCode: "CA", province: "ON", city: null },
    ];
    expect(cityKeysOf(places)).toEqual(["us-ca-losangeles", "de-berlin"]);
    expect(regionKeysOf(places)).toEqual(["us-ca", "ca-on"]);
  });
});

describe("anniversaries and stored birth dates", () => {
  it.each([
    ["2000-02-29", 2024, "2024-02-29"],
    ["2000-02-29", 2025, "2025-02-28"],
    ["2000-02-29", 2100, "2100-02-28"],
    ["1990-12-31", 2026, "2026-12-31"],
  ])("anniversaryIn(%j, %i) = %j", (birth, year, day) => expect(anniversaryIn(birth, year)).toBe(day));

  it.each([
    ["1990-06-15", "1990-06-15"],
    ["06-10", "2000-06-10"],
    ["02-29", "2000-02-29"],
    ["1990-02-29", null],
    ["1990-04-31", null],
    ["someday", null],
    [" 1985-06-01 ", "1985-06-01"],
  ])("birthDateOf(%j) = %j", (value, stored) => expect(birthDateOf(value)).toBe(stored));
});
