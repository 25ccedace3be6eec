import { describe, expect, it } from "vitest";
import { formatAverage, ratingMetafields } from "../../app/domain/feedback/product-ratings";

describe("product rating metafields", () => {
  it.each([
    [5, 1, "5.0"],
    [13, 3, "4.3"], // 4.333
    [9, 2, "4.5"],
    [17, 4, "4.3"], // 4.25 rounds half up
    [7, 4, "1.8"], // 1.75
    [3, 3, "1.0"],
    [29, 6, "4.8"], // 4.8333
    [4999, 1000, "5.0"], // 4.999
  ])("the average of sum %i over %i ratings is %s", (sum, count, expected) => {
    expect(formatAverage(sum, count)).toBe(expected);
  });

  it("refuses an average of nothing", () => {
    expect(() => formatAverage(0, 0)).toThrow(RangeError);
    expect(() => formatAverage(4.5, 1)).toThrow(RangeError);
  });

  it("builds Shopify's rating JSON and the integer count, and nothing for a product without ratings", () => {
    expect(ratingMetafields({ productGid: "gid://shopify/Product/1", sum: 9, count: 2 })).toEqual([
      { ownerId: "gid://shopify/Product/1", namespace: "reviews", key: "rating", type: "rating", value: '{"value":"4.5","scale_min":"1.0","scale_max":"5.0"}' },
      { ownerId: "gid://shopify/Product/1", namespace: "reviews", key: "rating_count", type: "number_integer", value: "2" },
    ]);
    expect(ratingMetafields({ productGid: "gid://shopify/Product/1", sum: 0, count: 0 })).toEqual([]);
  });
});
