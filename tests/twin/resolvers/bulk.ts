// Bulk operations' GraphQL surface (the runner is ../bulk-operations.ts): currentBulkOperation,
// bulkOperation, bulkOperationRunQuery / RunMutation / Cancel, stagedUploadsCreate, BulkOperation.
import { cmpId } from "../admin-state";
import { idResolver, parseGid, type ResolverMap, type TwinContext } from "./shared";

export function stagedUploadsCreate(ctx: TwinContext, inputs: { resource: string; filename: string; mimeType: string; httpMethod?: string }[]) {
  const targets = inputs.map((i) => {
    const key = `tmp/${ctx.shop.shopId}/bulk/${crypto.randomUUID()}/${i.filename}`;
    ctx.shop.stagedUploads.set(key, { key, body: null, createdAt: ctx.shop.nowIso() });
    const url = `${ctx.baseUrl}/staged-uploads/${encodeURIComponent(ctx.shop.domain)}`;
    return {
      url,
      resourceUrl: url,
      parameters:
        (i.httpMethod ?? "PUT") === "POST"
          ? [
              { name: "Content-Type", value: i.mimeType },
              { name: "success_action_status", value: "201" },
              { name: "acl", value: "private" },
              { name: "key", value: key },
            ]
          : [{ name: "key", value: key }],
    };
  });
  return { stagedTargets: targets, userErrors: [] };
}

export const bulkResolvers: ResolverMap = {
  QueryRoot: {
    currentBulkOperation: (_s, a, ctx) => {
      const type = (a.type as string | undefined) ?? "QUERY";
      const ops = [...ctx.shop.bulkOperations.values()].filter((b) => b.type === type).sort((x, y) => cmpId(y.id, x.id));
      return ops[0] ?? null;
    },
    bulkOperation: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "BulkOperation" && ctx.shop.bulkOperations.get(g.id)) || null;
    },
  },
  Mutation: {
    bulkOperationRunQuery: (_s, a, ctx) => ctx.bulk.runQuery(ctx, a.query as string, a.groupObjects as boolean),
    bulkOperationRunMutation: (_s, a, ctx) =>
      ctx.bulk.runMutation(ctx, a.mutation as string, a.stagedUploadPath as string, (a.clientIdentifier as string | null | undefined) ?? null),
    bulkOperationCancel: (_s, a, ctx) => {
      const g = parseGid(a.id);
      const op = g?.type === "BulkOperation" ? ctx.shop.bulkOperations.get(g.id) : undefined;
      if (!op) return { bulkOperation: null, userErrors: [{ field: ["id"], message: "Bulk operation does not exist", code: null }] };
      if (op.status !== "CREATED" && op.status !== "RUNNING")
        return { bulkOperation: op, userErrors: [{ field: null, message: `A bulk operation cannot be canceled when it is ${op.status.toLowerCase()}`, code: null }] };
      op.status = "CANCELED";
      op.completedAt = ctx.shop.nowIso();
      return { bulkOperation: op, userErrors: [] };
    },
    stagedUploadsCreate: (_s, a, ctx) => stagedUploadsCreate(ctx, a.input as { resource: string; filename: string; mimeType: string; httpMethod?: string }[]),
  },
  BulkOperation: {
    id: idResolver("BulkOperation"),
    // UnsignedInt64 is a string on the wire (conformance run-*-created-status: "objectCount": "0")
    objectCount: (b: { objectCount: number }) => String(b.objectCount),
    rootObjectCount: (b: { rootObjectCount: number }) => String(b.rootObjectCount),
    fileSize: (b: { fileSize: number | null }) => (b.fileSize === null ? null : String(b.fileSize)),
  },
};
