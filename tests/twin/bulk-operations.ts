// Bulk operations in the twin: bulkOperationRunQuery writes a JSONL file (one object per
// line, nested connection children as separate lines with "__parentId"), staged uploads
// + bulkOperationRunMutation run a mutation once per JSONL line. Files are served by the
// twin at /bulk-results/{shop}/{id}.jsonl. Validation messages and codes come from
// ../shared/shopify/conformance/2026-04/bulk-operations (run-query-validators,
// run-query-user-error-codes, run-*-concurrency-limit, run-mutation-validators,
// run-mutation-user-errors, run-mutation-empty-file, run-mutation-created-status).
import { appendFileSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GraphQLError,
  Kind,
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import type { AdminTwin } from "./admin-graphql";
import { gid, type TwinContext } from "./resolvers";
import type { BulkOperation, ShopState } from "./admin-state";
import { rubySyntaxError, staticErrors } from "./graphql-errors";
import { setUnboundedPaging } from "./search";

const PAGE_INFO_SELECTION = (parse("{ __twinPage: pageInfo { hasNextPage endCursor } }").definitions[0] as OperationDefinitionNode).selectionSet.selections[0]!;
const MAX_CONCURRENT = 5;
const MAX_DOCUMENT_BYTES = 65_535; // conformance bulk-operation-storage-byte-limit
const MAX_UPLOAD_BYTES = 100 * 1024 * 1024; // 100 MB since December 2025 (PLATFORM.md 3.6) // API >= 2026-01 (conformance run-*-concurrency-limit)
const ROOT_PAGE = 250;
const MUTATION_ROOT_DENYLIST = new Set(["bulkOperationRunMutation", "bulkOperationRunQuery", "bulkOperationCancel", "stagedUploadsCreate"]);

type QueryError = { field: string[] | null; message: string; code: string | null };

const isConnection = (t: GraphQLOutputType) => {
  const n = getNamedType(t);
  return isObjectType(n) && n.name.endsWith("Connection") && "edges" in n.getFields();
};
const unwrapList = (t: GraphQLOutputType) => isListType(isNonNullType(t) ? t.ofType : t);

function iso(ms: number) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class BulkRunner {
  private readonly dir = join(tmpdir(), `crm-twin-bulk-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  private readonly files = new Map<string, string>(); // shop:id -> path
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly twin: AdminTwin,
    private readonly options: { delayMs: number; onFinish?: (shop: string, op: BulkOperation) => void },
  ) {}

  stop() {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  resultPath(shop: string, id: string): string | null {
    return this.files.get(`${shop}:${id}`) ?? null;
  }

  private inProgress(shop: ShopState, type: BulkOperation["type"]) {
    return [...shop.bulkOperations.values()].filter((b) => b.type === type && (b.status === "CREATED" || b.status === "RUNNING"));
  }

  private create(ctx: TwinContext, type: BulkOperation["type"], query: string): BulkOperation {
    const op: BulkOperation = {
      id: ctx.shop.nextId(),
      type,
      status: "CREATED",
      errorCode: null,
      query,
      createdAt: ctx.shop.nowIso(),
      completedAt: null,
      objectCount: 0,
      rootObjectCount: 0,
      fileSize: null,
      url: null,
      partialDataUrl: null,
    };
    ctx.shop.bulkOperations.set(op.id, op);
    return op;
  }

  private schedule(fn: () => void, ms: number) {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private finish(ctx: TwinContext, op: BulkOperation, path: string | null) {
    if (op.status === "CANCELED" || op.status === "CANCELING") {
      op.status = "CANCELED";
    } else {
      op.status = "COMPLETED";
      if (path && op.objectCount > 0) {
        op.fileSize = statSync(path).size;
        op.url = `${this.twin.url}/bulk-results/${encodeURIComponent(ctx.shop.domain)}/${op.id}.jsonl`;
      }
    }
    op.completedAt = iso(ctx.shop.now());
    this.options.onFinish?.(ctx.shop.domain, op);
  }

  private filePath(ctx: TwinContext, op: BulkOperation): string {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, `${ctx.shop.domain}-${op.id}.jsonl`);
    writeFileSync(path, "");
    this.files.set(`${ctx.shop.domain}:${op.id}`, path);
    return path;
  }

  // ---------------------------------------------------------------- queries

  validateQuery(ctx: TwinContext, query: string): { errors: QueryError[]; op?: OperationDefinitionNode; doc?: DocumentNode } {
    const err = (message: string): QueryError => ({ field: ["query"], message, code: "INVALID" });
    const bytes = Buffer.byteLength(query);
    if (bytes > MAX_DOCUMENT_BYTES) return { errors: [err(`Query is too large (${bytes} bytes; maximum is ${MAX_DOCUMENT_BYTES} bytes)`)] };
    let doc: DocumentNode;
    try {
      doc = parse(query);
    } catch (e) {
      return { errors: [err(`Invalid bulk query: ${rubySyntaxError(query, e as GraphQLError).message}`)] };
    }
    const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (!op) return { errors: [err("Bulk queries must contain at least one connection.")] };
    if (op.operation !== "query") return { errors: [err("Invalid operation type. Only `query` operations are supported.")] };
    const invalid = staticErrors(this.twin.schema, doc);
    if (invalid.length > 0) return { errors: [err(`Invalid bulk query: ${invalid[0]!.message}`)] };
    const errors: QueryError[] = [];
    const root = this.twin.schema.getQueryType()!;
    const fields = op.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
    if (fields.some((f) => f.name.value === "node" || f.name.value === "nodes")) errors.push(err("Bulk queries cannot contain a top level `node` field."));
    let connections = 0;
    let tooDeep = false;
    let withinList = false;
    const viaNodes: string[] = [];
    const withoutId: string[] = [];
    const walk = (set: SelectionSetNode | undefined, parent: GraphQLObjectType, depth: number, inList: boolean) => {
      if (!set) return;
      for (const sel of set.selections) {
        if (sel.kind !== Kind.FIELD) continue;
        const def = parent.getFields()[sel.name.value];
        if (!def) continue;
        if (isConnection(def.type)) {
          connections++;
          if (depth + 1 > 2) tooDeep = true;
          if (inList) withinList = true;
          const conn = getNamedType(def.type) as GraphQLObjectType;
          const sub = sel.selectionSet?.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD) ?? [];
          if (sub.some((s) => s.name.value === "nodes")) viaNodes.push(sel.name.value);
          const edges = sub.find((s) => s.name.value === "edges");
          const node = edges?.selectionSet?.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === "node");
          if (node) {
            const nodeType = getNamedType(conn.getFields().edges!.type) as GraphQLObjectType;
            const itemType = getNamedType(nodeType.getFields().node!.type) as GraphQLObjectType;
            const hasNested = (node.selectionSet?.selections ?? []).some(
              (s) => s.kind === Kind.FIELD && isObjectType(itemType) && itemType.getFields()[s.name.value] && isConnection(itemType.getFields()[s.name.value]!.type),
            );
            const hasId = (node.selectionSet?.selections ?? []).some((s) => s.kind === Kind.FIELD && s.name.value === "id" && !s.alias);
            if (hasNested && !hasId) withoutId.push(sel.name.value);
            if (isObjectType(itemType)) walk(node.selectionSet, itemType, depth + 1, false);
          }
        } else {
          const named = getNamedType(def.type);
          if (isObjectType(named)) walk(sel.selectionSet, named, depth, inList || unwrapList(def.type));
        }
      }
    };
    walk(op.selectionSet, root, 0, false);
    if (connections === 0) errors.push(err("Bulk queries must contain at least one connection."));
    if (connections > 5) errors.push(err("Bulk queries cannot contain more than 5 connections."));
    if (tooDeep) errors.push(err("Bulk queries cannot contain connections with a nesting depth greater than 2."));
    if (withinList) errors.push(err("Queries that contain a connection field within a list field are not currently supported."));
    if (viaNodes.length)
      errors.push(
        err(
          `All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: '${viaNodes[0]} { edges { node {'. Selecting via 'nodes' is not supported. Invalid connection fields: ${viaNodes.map((n) => `'${n}'`).join(", ")}.`,
        ),
      );
    if (withoutId.length)
      errors.push(
        err(
          `The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': ${withoutId.join(", ")}.`,
        ),
      );
    return { errors, op, doc };
  }

  runQuery(ctx: TwinContext, query: string, _groupObjects: boolean) {
    const { errors, op, doc } = this.validateQuery(ctx, query);
    if (errors.length > 0 || !op || !doc) return { bulkOperation: null, userErrors: errors };
    const running = this.inProgress(ctx.shop, "QUERY");
    if (running.length >= MAX_CONCURRENT)
      return {
        bulkOperation: null,
        userErrors: [
          {
            field: null,
            message: `A bulk query operation for this app and shop is already in progress: ${running.map((b) => gid("BulkOperation", b.id)).join(", ")}.`,
            code: "OPERATION_IN_PROGRESS",
          },
        ],
      };
    const bulk = this.create(ctx, "QUERY", query);
    const fragments = Object.fromEntries(
      doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
    );
    this.schedule(() => this.executeQuery(ctx, bulk, op, fragments), this.options.delayMs);
    return { bulkOperation: bulk, userErrors: [] };
  }

  /** Runs the query page by page over its root connection, appending JSONL. */
  private executeQuery(ctx: TwinContext, bulk: BulkOperation, op: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>) {
    if (bulk.status === "CANCELED") return this.finish(ctx, bulk, null);
    bulk.status = "RUNNING";
    const path = this.filePath(ctx, bulk);
    const root = this.twin.schema.getQueryType()!;
    const rootField = op.selectionSet.selections.find(
      (s): s is FieldNode => s.kind === Kind.FIELD && !!root.getFields()[s.name.value] && isConnection(root.getFields()[s.name.value]!.type),
    )!;
    // Page the root connection: first: 250, after: $__after, plus pageInfo for the loop.
    const args = (rootField.arguments ?? []).filter((a) => !["first", "last", "after", "before"].includes(a.name.value));
    const pagedField: FieldNode = {
      ...rootField,
      alias: undefined,
      arguments: [
        ...args,
        { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "first" }, value: { kind: Kind.INT, value: String(ROOT_PAGE) } },
        { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "after" }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: "__after" } } },
      ],
      selectionSet: { kind: Kind.SELECTION_SET, selections: [...rootField.selectionSet!.selections, PAGE_INFO_SELECTION] },
    };
    const pagedOp: OperationDefinitionNode = {
      ...op,
      variableDefinitions: [
        ...(op.variableDefinitions ?? []),
        { kind: Kind.VARIABLE_DEFINITION, variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: "__after" } }, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: "String" } } },
      ],
      selectionSet: { kind: Kind.SELECTION_SET, selections: [pagedField] },
    };
    const rootDef = root.getFields()[rootField.name.value]!;
    let after: string | null = null;
    const step = () => {
      if (this.stopped) return;
      if (bulk.status === "CANCELED") return this.finish(ctx, bulk, path);
      setUnboundedPaging(true);
      let result;
      try {
        result = this.twin.execute(ctx, pagedOp, { __after: after }, fragments);
      } finally {
        setUnboundedPaging(false);
      }
      if (result.errors?.length || !result.data) {
        bulk.status = "FAILED";
        bulk.errorCode = "INTERNAL_SERVER_ERROR";
        bulk.completedAt = iso(ctx.shop.now());
        this.options.onFinish?.(ctx.shop.domain, bulk);
        return;
      }
      const conn = result.data[rootField.name.value] as { edges: { node: Record<string, unknown> }[]; __twinPage: { hasNextPage: boolean; endCursor: string | null } };
      const lines: string[] = [];
      const itemType = getNamedType((getNamedType(rootDef.type) as GraphQLObjectType).getFields().edges!.type) as GraphQLObjectType;
      const nodeType = getNamedType(itemType.getFields().node!.type) as GraphQLObjectType;
      const edgesSel = rootField.selectionSet!.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === "edges")!;
      const nodeSel = edgesSel.selectionSet!.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === "node")!;
      for (const edge of conn.edges) {
        bulk.rootObjectCount++;
        this.flatten(edge.node, nodeSel.selectionSet!, nodeType, null, lines);
      }
      bulk.objectCount += lines.length;
      if (lines.length) appendFileSync(path, `${lines.join("\n")}\n`);
      if (conn.__twinPage.hasNextPage) {
        after = conn.__twinPage.endCursor;
        this.schedule(step, 0);
      } else this.finish(ctx, bulk, path);
    };
    step();
  }

  /** One JSONL line for the node, separate lines for nested connection children. */
  private flatten(node: Record<string, unknown>, set: SelectionSetNode, type: GraphQLObjectType, parentId: string | null, out: string[]) {
    const own: Record<string, unknown> = {};
    const children: { conn: { edges?: { node: Record<string, unknown> }[] }; sel: FieldNode; itemType: GraphQLObjectType }[] = [];
    for (const sel of set.selections) {
      if (sel.kind !== Kind.FIELD) continue;
      const key = sel.alias?.value ?? sel.name.value;
      const def = type.getFields()[sel.name.value];
      if (def && isConnection(def.type)) {
        const edgeType = getNamedType((getNamedType(def.type) as GraphQLObjectType).getFields().edges!.type) as GraphQLObjectType;
        children.push({ conn: node[key] as { edges?: { node: Record<string, unknown> }[] }, sel, itemType: getNamedType(edgeType.getFields().node!.type) as GraphQLObjectType });
      } else if (key in node) own[key] = node[key];
    }
    if (parentId) own.__parentId = parentId;
    out.push(JSON.stringify(own));
    const id = node.id as string | undefined;
    for (const c of children) {
      const edgesSel = c.sel.selectionSet?.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === "edges");
      const nodeSel = edgesSel?.selectionSet?.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === "node");
      if (!nodeSel?.selectionSet) continue;
      for (const edge of c.conn?.edges ?? []) this.flatten(edge.node, nodeSel.selectionSet, c.itemType, id ?? null, out);
    }
  }

  // ---------------------------------------------------------------- mutations

  runMutation(ctx: TwinContext, mutation: string, stagedUploadPath: string, clientIdentifier: string | null) {
    const bytes = Buffer.byteLength(mutation);
    if (bytes > MAX_DOCUMENT_BYTES)
      return { bulkOperation: null, userErrors: [{ field: ["query"], message: `is too large (${bytes} bytes; maximum is ${MAX_DOCUMENT_BYTES} bytes)`, code: "INVALID_MUTATION" }] };
    let doc: DocumentNode;
    try {
      doc = parse(mutation);
    } catch (e) {
      return { bulkOperation: null, userErrors: [{ field: null, message: `Failed to parse the mutation - ${rubySyntaxError(mutation, e as GraphQLError).message}`, code: "INVALID_MUTATION" }] };
    }
    const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (!op || op.operation !== "mutation")
      return { bulkOperation: null, userErrors: [{ field: null, message: "Invalid operation type. Only `mutation` operations are supported.", code: "INVALID_MUTATION" }] };
    const roots = op.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
    if (roots.length !== 1) return { bulkOperation: null, userErrors: [{ field: ["mutation"], message: "You must specify a single top level mutation.", code: null }] };
    if (MUTATION_ROOT_DENYLIST.has(roots[0]!.name.value))
      return { bulkOperation: null, userErrors: [{ field: ["mutation"], message: "You must use an allowed mutation name.", code: null }] };
    // conformance bulk-operation-run-mutation-connection-validators: a connection is a field
    // with first/last whose selection goes through edges or nodes.
    let connections = 0;
    const countConnections = (set: SelectionSetNode | undefined) => {
      for (const sel of set?.selections ?? []) {
        if (sel.kind !== Kind.FIELD) continue;
        const paged = (sel.arguments ?? []).some((a) => a.name.value === "first" || a.name.value === "last");
        const listed = (sel.selectionSet?.selections ?? []).some((x) => x.kind === Kind.FIELD && (x.name.value === "edges" || x.name.value === "nodes"));
        if (paged && listed) connections++;
        countConnections(sel.selectionSet);
      }
    };
    countConnections(roots[0]!.selectionSet);
    if (connections > 1) return { bulkOperation: null, userErrors: [{ field: ["mutation"], message: "Bulk mutations cannot contain more than 1 connection.", code: null }] };
    // conformance bulk-operation-run-mutation-client-identifier-validation
    if (clientIdentifier !== null && clientIdentifier.length < 10)
      return { bulkOperation: null, userErrors: [{ field: ["clientIdentifier"], message: "is too short (minimum is 10 characters)", code: "INVALID_MUTATION" }] };
    if (clientIdentifier !== null && clientIdentifier.length > 255)
      return { bulkOperation: null, userErrors: [{ field: ["clientIdentifier"], message: "is too long (maximum is 255 characters)", code: "INVALID_MUTATION" }] };
    const upload = ctx.shop.stagedUploads.get(stagedUploadPath);
    if (!upload || upload.body === null)
      return {
        bulkOperation: null,
        userErrors: [
          {
            field: null,
            message: "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL correctly for the stagedUploadPath mutation argument.",
            code: "NO_SUCH_FILE",
          },
        ],
      };
    if ((upload.size ?? Buffer.byteLength(upload.body)) > MAX_UPLOAD_BYTES)
      return { bulkOperation: null, userErrors: [{ field: null, message: "The input file size exceeds the maximum allowed size of 100 MB.", code: "INVALID_STAGED_UPLOAD_FILE" }] };
    if (upload.body.trim() === "") return { bulkOperation: null, userErrors: [{ field: null, message: "The input file is empty.", code: "INVALID_STAGED_UPLOAD_FILE" }] };
    const running = this.inProgress(ctx.shop, "MUTATION");
    if (running.length >= MAX_CONCURRENT)
      return {
        bulkOperation: null,
        userErrors: [
          {
            field: null,
            message: `A bulk mutation operation for this app and shop is already in progress: ${running.map((b) => gid("BulkOperation", b.id)).join(", ")}.`,
            code: "OPERATION_IN_PROGRESS",
          },
        ],
      };
    const bulk = this.create(ctx, "MUTATION", mutation);
    const lines = upload.body.split("\n").filter((l) => l.trim() !== "");
    this.schedule(() => {
      bulk.status = "RUNNING";
      const path = this.filePath(ctx, bulk);
      let i = 0;
      const step = () => {
        if (this.stopped) return;
        if (bulk.status === "CANCELED") return this.finish(ctx, bulk, path);
        const out: string[] = [];
        for (let n = 0; n < 100 && i < lines.length; n++, i++) {
          let variables: Record<string, unknown>;
          try {
            variables = JSON.parse(lines[i]!) as Record<string, unknown>;
          } catch {
            out.push(JSON.stringify({ errors: [{ message: "Invalid JSON on line" }], __lineNumber: i }));
            continue;
          }
          const res = this.twin.executeRequest(ctx.shop.domain, { query: mutation, variables }, { chargeCost: false });
          const line: Record<string, unknown> = {};
          if (res.errors) line.errors = res.errors;
          if (res.data !== undefined) line.data = res.data;
          line.__lineNumber = i;
          out.push(JSON.stringify(line));
          bulk.objectCount++;
          bulk.rootObjectCount++;
        }
        if (out.length) appendFileSync(path, `${out.join("\n")}\n`);
        if (i < lines.length) this.schedule(step, 0);
        else this.finish(ctx, bulk, path);
      };
      step();
    }, this.options.delayMs);
    return { bulkOperation: bulk, userErrors: [] };
  }

  /** Multipart POST (parameters first, file last) or PUT to a staged upload target. */
  async acceptUpload(shopDomain: string, req: IncomingMessage, raw: Buffer, keyParam: string | null): Promise<{ status: number; contentType: string; body: string }> {
    const shop = this.twin.shop(shopDomain);
    let key = keyParam;
    let text: string;
    if (req.method === "POST") {
      const form = await new Response(new Uint8Array(raw), { headers: { "content-type": String(req.headers["content-type"] ?? "") } }).formData();
      key = String(form.get("key") ?? "");
      const file = form.get("file");
      text = typeof file === "string" ? file : file ? await file.text() : "";
    } else text = raw.toString("utf8");
    const upload = key ? shop.stagedUploads.get(key) : undefined;
    if (!upload) return { status: 403, contentType: "application/xml", body: "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>Access denied.</Message></Error>" };
    upload.body = text;
    if (req.method === "PUT") return { status: 200, contentType: "text/plain", body: "" };
    return {
      status: 201,
      contentType: "application/xml",
      body: `<?xml version='1.0' encoding='UTF-8'?><PostResponse><Location>${this.twin.url}/staged-uploads/${encodeURIComponent(shopDomain)}/${key}</Location><Bucket>shopify-staged-uploads</Bucket><Key>${key}</Key><ETag>"${Buffer.byteLength(text)}"</ETag></PostResponse>`,
    };
  }
}
