// A worker that dies in the middle of a history import (tests/integration/history-import.test.ts):
// runs the shop's import with small merge chunks and kills itself (SIGKILL: no cleanup, no
// rollback of anything but the open transaction) before the KILL_AT-th order chunk.
import { runImport } from "../../app/services/history-import/import.server";

const shop = process.env.IMPORT_SHOP!;
const killAt = Number(process.env.KILL_AT ?? "3");
let chunks = 0;
await runImport(shop, {
  pollMs: 50,
  chunk: { orders: 50 },
  beforeStep: (step) => {
    if (step === "merge:orders" && ++chunks === killAt) process.kill(process.pid, "SIGKILL");
  },
});
process.stderr.write("the import ended before the kill point\n");
process.exit(3);
