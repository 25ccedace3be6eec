/*
 * The loyalty block's behaviour (blocks/loyalty-balance.liquid). For each block on the page:
 * GET {proxy}/loyalty through the store's app proxy (same origin: the shopper's session goes
 * with it, Shopify signs it and names the signed-in customer), then shows the points, pending
 * points, tier and progress, and the rewards; a redeem button POSTs {proxy}/loyalty/redeem and
 * shows the discount code. States (data-state): loading, signed-out, no-program, error (with
 * retry), ready. Plain DOM, text only (never innerHTML), no framework, no request outside the
 * store. Modern syntax (ES2019), which every browser Shopify supports for storefronts reads.
 */
/* global document, window */
(() => {
  "use strict";

  const fill = (template, values) =>
    String(template).replace(/\[(\w+)\]/g, (whole, name) => (Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole));

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function requestKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** The response status and its JSON body (null when the body is not JSON). */
  async function readJson(response) {
    try {
      return { status: response.status, body: await response.json() };
    } catch {
      return { status: response.status, body: null };
    }
  }

  const isZero = (amount) => (amount.unit === "points" ? amount.points === 0 : Number(amount.amount) === 0);

  class LoyaltyBlock {
    constructor(root) {
      this.root = root;
      this.body = root.querySelector("[data-crm-loyalty-body]");
      this.proxyUrl = (root.getAttribute("data-proxy-url") || "/apps/crm").replace(/\/+$/, "");
      this.loginUrl = root.getAttribute("data-login-url") || "/account/login";
      this.locale = root.getAttribute("data-locale") || document.documentElement.lang || "en";
      this.showUnaffordable = root.getAttribute("data-show-unaffordable") !== "false";
      const strings = root.querySelector("[data-crm-loyalty-strings]");
      try {
        this.t = strings ? JSON.parse(strings.textContent) : {};
      } catch {
        this.t = {};
      }
      this.state = null;
      this.issued = null;
      this.busy = false;
    }

    number(value) {
      try {
        return new Intl.NumberFormat(this.locale).format(value);
      } catch {
        return String(value);
      }
    }

    money(decimal, currency) {
      if (currency) {
        try {
          return new Intl.NumberFormat(this.locale, { style: "currency", currency }).format(Number(decimal));
        } catch {
          // an unknown currency code: shown as a plain number below
        }
      }
      return String(decimal) + (currency ? ` ${currency}` : "");
    }

    amount(amount) {
      if (amount.unit === "points") return `${this.number(amount.points)} ${this.t.points_unit || "points"}`;
      return this.money(amount.amount, amount.currency);
    }

    show(state, nodes) {
      this.root.setAttribute("data-state", state);
      this.body.setAttribute("aria-busy", state === "loading" ? "true" : "false");
      this.body.replaceChildren(...nodes);
    }

    async load() {
      this.show("loading", [el("p", "crm-loyalty__message", this.t.loading || "Loading…")]);
      let result;
      try {
        result = await readJson(await fetch(`${this.proxyUrl}/loyalty`, { headers: { Accept: "application/json" }, credentials: "same-origin" }));
      } catch {
        return this.renderError(null);
      }
      const code = result.body && result.body.error;
      if (result.status === 200 && result.body && !code) return this.render(result.body);
      if (result.status === 401 || code === "signed_out") return this.renderSignedOut();
      if (code === "no_program") return this.show("no-program", [el("p", "crm-loyalty__message", this.t.no_program)]);
      return this.renderError(result.body && result.body.message);
    }

    renderSignedOut() {
      const link = el("a", "crm-loyalty__button crm-loyalty__button--link", this.t.sign_in);
      link.href = this.loginUrl;
      this.show("signed-out", [el("p", "crm-loyalty__message", this.t.signed_out), link]);
    }

    renderError(detail) {
      const message = el("p", "crm-loyalty__message crm-loyalty__message--error", this.t.error);
      message.setAttribute("role", "alert");
      const nodes = [message];
      if (detail) nodes.push(el("p", "crm-loyalty__detail", detail));
      const retry = el("button", "crm-loyalty__button", this.t.retry);
      retry.type = "button";
      retry.addEventListener("click", () => this.load());
      nodes.push(retry);
      this.show("error", nodes);
    }

    rewardLabel(reward, currency) {
      let label;
      if (reward.kind === "fixed_amount") label = fill(this.t.reward_fixed_amount, { amount: this.money(reward.value, currency) });
      else if (reward.kind === "percentage") label = fill(this.t.reward_percentage, { percent: this.number(reward.value) });
      else label = this.t.reward_free_shipping;
      if (reward.minimumOrder) label += ` ${fill(this.t.minimum_order, { amount: this.money(reward.minimumOrder, currency) })}`;
      return label;
    }

    figure(label, value, className, dataName, raw) {
      const node = el("div", `crm-loyalty__figure${className ? ` ${className}` : ""}`);
      const dd = el("dd", null, value);
      if (dataName) dd.setAttribute(dataName, String(raw));
      node.append(el("dt", null, label), dd);
      return node;
    }

    render(state) {
      this.state = state;
      const nodes = [];

      const figures = el("dl", "crm-loyalty__figures");
      figures.append(this.figure(this.t.points_label, this.number(state.balance), "crm-loyalty__figure--balance", "data-crm-loyalty-balance", state.balance));
      const pending = this.figure(this.t.pending_label, this.number(state.pending), null, "data-crm-loyalty-pending", state.pending);
      pending.title = this.t.pending_hint;
      figures.append(pending);
      if (state.tier) {
        const tier = this.figure(this.t.tier_label, state.tier.current || this.t.no_tier);
        tier.lastChild.className = "crm-loyalty__tier";
        figures.append(tier);
      }
      nodes.push(figures);

      if (state.tier) {
        const bar = el("div", "crm-loyalty__bar");
        bar.setAttribute("role", "progressbar");
        bar.setAttribute("aria-valuemin", "0");
        bar.setAttribute("aria-valuemax", "100");
        bar.setAttribute("aria-valuenow", String(Math.floor(state.tier.permille / 10)));
        const filled = el("div", "crm-loyalty__bar-fill");
        filled.style.width = `${state.tier.permille / 10}%`;
        bar.append(filled);
        const next = state.tier.next;
        let caption;
        if (!next) caption = this.t.top_tier;
        else if (isZero(next.remaining)) caption = fill(this.t.next_tier_reached, { tier: next.name });
        else caption = fill(this.t.to_next_tier, { amount: this.amount(next.remaining), tier: next.name });
        bar.setAttribute("aria-label", caption);
        const progress = el("div", "crm-loyalty__progress");
        progress.append(bar, el("p", "crm-loyalty__progress-caption", caption));
        nodes.push(progress);
      }

      if (this.issued) nodes.push(this.codeBox(this.issued));

      const rewards = (state.rewards || []).filter((reward) => reward.affordable || this.showUnaffordable);
      const section = el("div", "crm-loyalty__rewards");
      section.append(el("h3", "crm-loyalty__rewards-heading", this.t.rewards_heading));
      if (rewards.length === 0) section.append(el("p", "crm-loyalty__message", this.t.no_rewards));
      const list = el("ul", "crm-loyalty__reward-list");
      for (const reward of rewards) list.append(this.rewardItem(reward, state));
      section.append(list);
      nodes.push(section);
      this.show("ready", nodes);
    }

    rewardItem(reward, state) {
      const item = el("li", `crm-loyalty__reward${reward.affordable ? " crm-loyalty__reward--affordable" : ""}`);
      item.setAttribute("data-reward-id", reward.id);
      const text = el("div", "crm-loyalty__reward-text");
      text.append(el("span", "crm-loyalty__reward-name", reward.name));
      const detail = this.rewardLabel(reward, state.currency);
      if (detail !== reward.name) text.append(el("span", "crm-loyalty__reward-detail", detail));
      text.append(el("span", "crm-loyalty__reward-cost", fill(this.t.cost, { points: this.number(reward.pointsCost) })));
      const button = el("button", "crm-loyalty__button", this.t.redeem);
      button.type = "button";
      button.disabled = !reward.affordable || this.busy;
      button.addEventListener("click", () => this.redeem(reward, button));
      item.append(text, button);
      if (!reward.affordable) item.append(el("p", "crm-loyalty__reward-hint", fill(this.t.needs_more, { points: this.number(reward.pointsCost - state.balance) })));
      return item;
    }

    codeBox(issued) {
      const box = el("div", "crm-loyalty__code");
      box.setAttribute("role", "status");
      box.append(el("p", "crm-loyalty__code-heading", this.t.code_heading));
      const code = el("p", "crm-loyalty__code-value", issued.code);
      code.setAttribute("data-crm-loyalty-code", issued.code);
      box.append(code);
      if (issued.expiresAt) {
        const date = new Date(issued.expiresAt);
        let text;
        try {
          text = new Intl.DateTimeFormat(this.locale, { dateStyle: "medium" }).format(date);
        } catch {
          text = date.toDateString();
        }
        box.append(el("p", "crm-loyalty__code-expiry", fill(this.t.code_expires, { date: text })));
      }
      if (window.navigator && window.navigator.clipboard) {
        const copy = el("button", "crm-loyalty__button crm-loyalty__button--secondary", this.t.copy);
        copy.type = "button";
        copy.addEventListener("click", () => {
          window.navigator.clipboard.writeText(issued.code).then(
            () => (copy.textContent = this.t.copied),
            () => undefined, // the code stays on screen to copy by hand
          );
        });
        box.append(copy);
      }
      return box;
    }

    /** Redeems one reward; a fresh requestKey per click makes a retried request spend once. */
    async redeem(reward, button) {
      if (this.busy) return;
      this.busy = true;
      button.disabled = true;
      button.textContent = this.t.redeeming;
      let result;
      try {
        result = await readJson(
          await fetch(`${this.proxyUrl}/loyalty/redeem`, {
            method: "POST",
            credentials: "same-origin",
            headers: { Accept: "application/json", "Content-Type": "application/json" },
            body: JSON.stringify({ rewardId: reward.id, requestKey: requestKey() }),
          }),
        );
      } catch {
        result = { status: 0, body: null };
      }
      this.busy = false;
      if (result.status === 200 && result.body && result.body.redemption) {
        this.issued = result.body.redemption;
        this.render(result.body.loyalty || this.state);
        this.root.dispatchEvent(new CustomEvent("crm-loyalty:redeemed", { bubbles: true, detail: { code: this.issued.code, rewardId: reward.id } }));
        return;
      }
      if (result.status === 401) return this.renderSignedOut();
      this.render(this.state);
      const item = Array.from(this.root.querySelectorAll("[data-reward-id]")).find((node) => node.getAttribute("data-reward-id") === reward.id);
      const message = el("p", "crm-loyalty__reward-error", (result.body && result.body.message) || this.t.error);
      message.setAttribute("role", "alert");
      (item || this.body).append(message);
    }
  }

  function start(scope) {
    for (const root of (scope || document).querySelectorAll("[data-crm-loyalty]")) {
      if (root.crmLoyalty) continue;
      root.crmLoyalty = new LoyaltyBlock(root);
      root.crmLoyalty.load();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => start());
  else start();
  // The theme editor re-renders a section without reloading the page.
  document.addEventListener("shopify:section:load", (event) => start(event.target));
})();
