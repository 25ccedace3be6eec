// A local mail catcher: a real SMTP server (smtp-server) on 127.0.0.1 that keeps every
// message it accepts in memory, parsed with mailparser, and serves them on a small web page
// (a list, each message's HTML and plain text, and JSON). Used by the email tests (which
// also make it reject messages on purpose, to exercise the sender's retries and bounces), by
// the email bench, and by `npm run demo`, so a person can open an email and click its links.
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from "smtp-server";

export type CaughtMessage = {
  id: number;
  receivedAt: Date;
  envelopeFrom: string | null;
  envelopeTo: string[];
  messageId: string | null;
  from: string;
  to: string;
  subject: string;
  html: string | null;
  text: string | null;
  headers: Map<string, unknown>;
  /** Raw header lines, e.g. "List-Unsubscribe-Post: List-Unsubscribe=One-Click". */
  headerLines: readonly { key: string; line: string }[];
  size: number;
};

/** A rejection to answer with instead of accepting (e.g. { code: 451, message: "try later" }). */
export type Rejection = { code: number; message: string };

export type MailCatcherOptions = {
  /** SMTP port (0: any free port). */
  smtpPort?: number;
  /** HTTP port of the page (0: any free port; null: no page). */
  httpPort?: number | null;
  /** Called for each RCPT TO; a Rejection refuses that recipient. */
  onRcptTo?: (address: string, session: SMTPServerSession) => Rejection | null;
  /** Called once the message's data arrived; a Rejection refuses the message (nothing is kept). */
  onMessage?: (message: CaughtMessage) => Rejection | null;
  /** Keep at most this many messages (oldest dropped). */
  maxMessages?: number;
};

export type MailCatcher = {
  smtpUrl: string;
  /** The page's origin (null when started without one). */
  httpUrl: string | null;
  messages: CaughtMessage[];
  /** Resolves when `count` messages were accepted in all (rejects after timeoutMs). */
  waitFor: (count: number, timeoutMs?: number) => Promise<CaughtMessage[]>;
  /** SMTP connections opened so far (pooling keeps this small). */
  connections: () => number;
  clear: () => void;
  close: () => Promise<void>;
};

function rejection(r: Rejection): Error & { responseCode: number } {
  return Object.assign(new Error(r.message), { responseCode: r.code });
}

function addressList(value: ParsedMail["from"] | ParsedMail["to"]): string {
  if (!value) return "";
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(", ");
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export async function startMailCatcher(options: MailCatcherOptions = {}): Promise<MailCatcher> {
  const messages: CaughtMessage[] = [];
  let nextId = 1;
  let connections = 0;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    banner: "crm mail catcher",
    size: 25 * 1024 * 1024,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onRcptTo(address: SMTPServerAddress, session, callback) {
      const r = options.onRcptTo?.(address.address, session) ?? null;
      callback(r ? rejection(r) : null);
    },
    onData(stream, session, callback) {
      simpleParser(stream, {})
        .then((mail) => {
          const message: CaughtMessage = {
            id: nextId++,
            receivedAt: new Date(),
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            messageId: mail.messageId ?? null,
            from: addressList(mail.from),
            to: addressList(mail.to),
            subject: mail.subject ?? "",
            html: typeof mail.html === "string" ? mail.html : null,
            text: mail.text ?? null,
            headers: mail.headers,
            headerLines: mail.headerLines,
            size: (stream as unknown as { sizeExceeded?: boolean; byteLength?: number }).byteLength ?? 0,
          };
          const r = options.onMessage?.(message) ?? null;
          if (r) return callback(rejection(r));
          messages.push(message);
          if (options.maxMessages && messages.length > options.maxMessages) messages.splice(0, messages.length - options.maxMessages);
          callback(null, `Queued as ${message.id}`);
          notify();
        })
        .catch((error: Error) => callback(rejection({ code: 451, message: `could not parse: ${error.message}` })));
    },
  });
  smtp.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    smtp.server.once("error", reject);
    smtp.listen(options.smtpPort ?? 0, "127.0.0.1", () => resolve());
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  let http: HttpServer | null = null;
  let httpUrl: string | null = null;
  if (options.httpPort !== null) {
    http = createHttpServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://catcher");
      const found = /^\/messages\/(\d+)(\.txt)?$/.exec(url.pathname);
      if (url.pathname === "/" || url.pathname === "") {
        const rows = [...messages]
          .reverse()
          .map(
            (m) =>
              `<tr><td>${m.receivedAt.toISOString().slice(11, 19)}</td><td>${escapeHtml(m.to)}</td><td><a href="/messages/${m.id}" target="view">${escapeHtml(m.subject)}</a></td><td><a href="/messages/${m.id}.txt" target="view">text</a></td></tr>`,
          )
          .join("");
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Mail catcher (${messages.length})</title>
<style>body{font-family:system-ui,sans-serif;margin:0;display:flex;height:100vh}#list{width:40%;overflow:auto;padding:8px;border-right:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:13px}td{padding:4px;border-bottom:1px solid #eee}iframe{flex:1;border:0;height:100%}</style></head>
<body><div id="list"><h1 style="font-size:16px">Mail catcher: ${messages.length} message(s)</h1><p style="font-size:12px">SMTP on 127.0.0.1:${smtpPort}. <a href="/">Refresh</a></p>
<table><tr><th>Time</th><th>To</th><th>Subject</th><th></th></tr>${rows}</table></div><iframe name="view"></iframe></body></html>`);
        return;
      }
      if (url.pathname === "/api/messages") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(messages.map((m) => ({ id: m.id, receivedAt: m.receivedAt, to: m.to, from: m.from, subject: m.subject, messageId: m.messageId }))));
        return;
      }
      const message = found ? messages.find((m) => m.id === Number(found[1])) : undefined;
      if (!message) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
        return;
      }
      if (found![2] || !message.html) {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        res.end(message.text ?? "");
      } else {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(message.html);
      }
    });
    await new Promise<void>((resolve, reject) => {
      http!.once("error", reject);
      http!.listen(options.httpPort ?? 0, "127.0.0.1", () => resolve());
    });
    httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    httpUrl,
    messages,
    connections: () => connections,
    clear: () => void messages.splice(0),
    waitFor: (count, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(messages.slice());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`mail catcher: ${messages.length} of ${count} messages after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      if (http) {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http!.close(() => resolve()));
      }
    },
  };
}
