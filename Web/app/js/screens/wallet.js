// The wallet: balance with its expiring lots, credit packages and purchase, promo codes, and the paged history.
// Everything follows the live `balance` events, so a purchase, a refund or an expiry shows without a reload.
import { api } from "../api.js";
import { h, formatCredits, formatDate, formatMoney } from "../dom.js";
import { live } from "../events.js";
import { field, loading, problem } from "../ui.js";
import { attemptKeeper, isUnsettled } from "../commerce/attempts.js";
import { cardField } from "../commerce/payment.js";
import { coalesced, definitions, fill, panel, screen, select, signed, table, whileBusy } from "../commerce/widgets.js";

export const routes = [{ path: "/wallet", title: "Wallet", auth: true, render: renderWallet }];

async function renderWallet(main) {
  const balance = balancePanel();
  const history = historyPanel();
  // The answer of a purchase or redemption updates the screen at once; the balance event that follows only
  // confirms it (and covers other tabs and webhooks).
  const credited = (newBalance) => {
    balance.show(newBalance);
    history.balanceChanged();
  };
  const purchases = packagesPanel({ onCredited: credited });
  const promo = redeemPanel({ onCredited: credited });
  main.append(screen("Wallet", "wallet",
    balance.element,
    h("div", { class: "wallet-columns" }, purchases.element, promo.element),
    history.element));

  const unsubscribe = [
    live.on("balance", (event) => {
      balance.show(event?.balance);
      purchases.balanceChanged(event?.balance);
      history.balanceChanged();
    }),
    // A reset means events were missed: read everything again.
    live.on("reset", () => {
      balance.show();
      history.balanceChanged();
    }),
  ];
  return () => unsubscribe.forEach((off) => off());
}

/** The balance, its three totals and the lots about to expire. `show(n)` shows `n` at once, then re-reads totals. */
function balancePanel() {
  const amount = h("p", { class: "wallet-balance", "aria-live": "polite" });
  const details = h("div", { class: "stack" }, loading("Loading your balance…"));
  const element = panel("Balance", amount, details);

  const reload = coalesced(async () => {
    try {
      render(await api("/v1/credits/balance"));
    } catch (error) {
      fill(details, problem(error));
    }
  });

  function render(wallet) {
    amount.textContent = formatCredits(wallet.balance);
    const expiring = wallet.expiring ?? [];
    fill(details,
      definitions([
        ["Earned", formatCredits(wallet.total_earned)],
        ["Spent", formatCredits(wallet.total_spent)],
        ["Expired", formatCredits(wallet.total_expired)],
      ], "wallet-totals"),
      h("h3", {}, "Expiring credits"),
      expiring.length === 0
        ? h("p", { class: "empty" }, "None of your credits expire.")
        : h("ul", { class: "wallet-expiring" }, expiring.map((lot) =>
          h("li", {}, h("strong", {}, formatCredits(lot.credits)), ` expire on ${formatDate(lot.expires_at)}`))));
  }

  reload();
  return {
    element,
    show(newBalance) {
      if (Number.isFinite(newBalance)) amount.textContent = formatCredits(newBalance);
      reload();
    },
  };
}

/** Credit packages and the card that pays for them. */
function packagesPanel({ onCredited }) {
  const result = h("div", { class: "stack", "aria-live": "polite" });
  const body = h("div", { class: "stack" }, loading("Loading packages…"));
  const element = panel("Buy credits", body, result);
  const attempts = attemptKeeper();
  let card = null;
  // A Stripe payment that needed 3-D Secure is credited by the webhook later: the next balance event confirms it.
  let awaitingCredit = null;

  (async () => {
    try {
      const [{ packages }, field] = await Promise.all([api("/v1/credits/packages", { auth: false }), cardField()]);
      card = field;
      fill(body,
        card.element,
        packages.length === 0
          ? h("p", { class: "empty" }, "No credit packages are on sale.")
          : h("ul", { class: "grid package-list", "aria-label": "Credit packages" }, packages.map(packageCard)));
    } catch (error) {
      fill(body, problem(error));
    }
  })();

  function packageCard(pkg) {
    const button = h("button", { type: "button", class: "btn btn-primary", onclick: () => whileBusy(button, () => buy(pkg)) },
      `Buy ${pkg.name}`);
    return h("li", { class: "card package stack" },
      h("h3", {}, pkg.name),
      h("p", { class: "package-credits" }, formatCredits(pkg.credits)),
      h("p", {}, h("strong", {}, formatMoney(pkg.price, pkg.currency)), h("span", { class: "muted" }, ` · ${formatUnitPrice(pkg.price_per_credit, pkg.currency)} per credit`)),
      button);
  }

  async function buy(pkg) {
    const fingerprint = `${pkg.id}|${card.fingerprint()}`;
    const retrying = attempts.resumes(fingerprint);
    fill(result, loading(retrying ? `Retrying the purchase of ${pkg.name}…` : `Paying for ${pkg.name}…`));
    try {
      const answer = await attempts.run(fingerprint, () => card.paymentToken(), (key, token) =>
        api("/v1/credits/purchase", {
          method: "POST",
          body: { package_id: pkg.id, payment_method: "card", payment_token: token },
          idempotencyKey: key,
        }));
      if (answer?.status === "pending") {
        awaitingCredit = pkg;
        fill(result, loading("Confirm the payment with your bank…"));
        await card.completeAction(answer.client_secret);
        fill(result, loading("Waiting for the payment to be confirmed…"));
        return;
      }
      fill(result, h("p", { class: "success", role: "status" },
        `Added ${formatCredits(answer.credits_added)} for ${formatMoney(answer.amount_paid, answer.currency)}. `,
        `New balance: ${formatCredits(answer.new_balance)}.`));
      onCredited(answer.new_balance);
    } catch (error) {
      awaitingCredit = null;
      fill(result, problem(error), isUnsettled(error)
        ? h("p", { class: "muted" }, `Try "Buy ${pkg.name}" again: the retry continues this purchase and is never charged twice.`)
        : null);
    }
  }

  return {
    element,
    balanceChanged(newBalance) {
      if (!awaitingCredit) return;
      fill(result, h("p", { class: "success", role: "status" },
        `Payment confirmed: ${formatCredits(awaitingCredit.credits)} added. New balance: ${formatCredits(newBalance)}.`));
      awaitingCredit = null;
    },
  };
}

/** Promo code redemption. */
function redeemPanel({ onCredited }) {
  const input = h("input", { name: "code", type: "text", autocomplete: "off", spellcheck: "false", required: true, maxlength: "64" });
  const result = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Redeem");
  const attempts = attemptKeeper();
  const form = h("form", {
    class: "stack",
    onsubmit: (event) => {
      event.preventDefault();
      whileBusy(button, redeem);
    },
  }, field("Promo code", input), h("div", { class: "row" }, button), result);

  async function redeem() {
    const code = input.value.trim();
    if (!code) {
      input.focus();
      return;
    }
    fill(result, loading("Redeeming…"));
    try {
      const answer = await attempts.run(code.toUpperCase(), null, (key) =>
        api("/v1/credits/redeem", { method: "POST", body: { code }, idempotencyKey: key }));
      fill(result, h("p", { class: "success", role: "status" },
        `Added ${formatCredits(answer.credits_added)}`,
        answer.expires_at ? ` (they expire on ${formatDate(answer.expires_at)})` : "",
        `. New balance: ${formatCredits(answer.new_balance)}.`));
      input.value = "";
      onCredited(answer.new_balance);
    } catch (error) {
      // 404 unknown, 409 already redeemed or exhausted, 410 expired: the server's detail says which.
      fill(result, problem(error));
    }
  }

  return { element: panel("Redeem a code", form) };
}

/** "$0.0499": prices per credit carry four decimals (API.md), more than a currency's usual two. */
function formatUnitPrice(amount, currency = "USD") {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 4 }).format(Number(amount));
  } catch {
    return `${Number(amount)} ${currency}`;
  }
}

const HISTORY_TYPES = [
  ["", "All"], ["purchase", "Purchases"], ["usage", "Usage"], ["refund", "Refunds"], ["bonus", "Bonuses"],
  ["subscription", "Subscriptions"], ["expiry", "Expiries"],
];
const PAGE_SIZE = 20;

/** The ledger, page by page, filtered by type. */
function historyPanel() {
  let page = 1;
  let type = "";
  const filter = select({ name: "transaction_type", onchange: () => { type = filter.value; page = 1; reload(); } }, HISTORY_TYPES, "");
  const body = h("div", { class: "stack" });
  // While a page loads, a status line says so (the table already shown stays until the new one replaces it).
  const busy = h("div");
  const pager = h("nav", { class: "row pager", "aria-label": "History pages" });
  const element = panel("History", h("div", { class: "row" }, field("Transaction type", filter)), busy, body, pager);

  const reload = coalesced(async () => {
    body.setAttribute("aria-busy", "true");
    fill(busy, loading("Loading history…"));
    try {
      const answer = await api("/v1/credits/history", {
        query: { page, page_size: PAGE_SIZE, transaction_type: type || undefined },
      });
      render(answer);
    } catch (error) {
      fill(body, problem(error));
    } finally {
      body.setAttribute("aria-busy", "false");
      fill(busy);
    }
  });

  function render({ transactions, total, has_more: hasMore }) {
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    if (transactions.length === 0) {
      fill(body, h("p", { class: "empty" }, type ? "No transactions of this type yet." : "No transactions yet."));
    } else {
      fill(body,
        h("p", { class: "muted" }, `${total} ${total === 1 ? "transaction" : "transactions"} · page ${page} of ${pages}`),
        table("Credit history", ["Date", "Description", "Type", ["Credits", "num"], ["Balance after", "num"]], transactions.map((row) =>
          h("tr", { dataset: { transactionId: row.id } },
            h("td", {}, formatDate(row.created_at)),
            h("td", {}, row.description),
            h("td", {}, h("span", { class: `badge badge-neutral tx-${row.transaction_type}` }, row.transaction_type)),
            h("td", { class: `num ${row.credits < 0 ? "debit" : "credit"}` }, signed(row.credits)),
            h("td", { class: "num" }, new Intl.NumberFormat().format(row.balance_after))))));
    }
    renderPager(pages, hasMore);
  }

  // The pager is rebuilt after each page load: the control that had focus gets it back (or the current page's
  // button when it has become disabled), so keyboard users can keep pressing "Next".
  let refocus = null;

  function renderPager(pages, hasMore) {
    const go = (target) => {
      refocus = pager.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
      page = target;
      reload();
    };
    const button = (label, target, { current = false, disabled = false, name } = {}) => h("button", {
      type: "button", class: current ? "btn btn-primary" : "btn btn-ghost", "aria-current": current ? "page" : null,
      "aria-label": name, disabled, onclick: () => go(target),
    }, label);
    fill(pager,
      button("Previous", page - 1, { disabled: page <= 1, name: "Previous page" }),
      pageNumbers(page, pages).map((n) => (n === null
        ? h("span", { class: "muted", "aria-hidden": "true" }, "…")
        : button(String(n), n, { current: n === page, name: `Page ${n}` }))),
      button("Next", page + 1, { disabled: !hasMore, name: "Next page" }));
    pager.hidden = pages <= 1 && page === 1;
    if (refocus) {
      const again = pager.querySelector(`[aria-label="${refocus}"]:not([disabled])`) ?? pager.querySelector("[aria-current]");
      again?.focus();
      refocus = null;
    }
  }

  reload();
  return {
    element,
    // New rows land on page 1 (newest first); other pages stay put so the reader does not lose their place.
    balanceChanged() {
      if (page === 1) reload();
    },
  };
}

/** 1 … 4 5 [6] 7 8 … 20: the first, the last and two either side of the current page (null = a gap). */
function pageNumbers(current, pages) {
  const shown = new Set([1, pages]);
  for (let n = current - 2; n <= current + 2; n += 1) if (n >= 1 && n <= pages) shown.add(n);
  const sorted = [...shown].sort((a, b) => a - b);
  const out = [];
  sorted.forEach((n, i) => {
    if (i > 0 && n - sorted[i - 1] > 1) out.push(null);
    out.push(n);
  });
  return out;
}
