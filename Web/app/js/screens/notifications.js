// Notifications: the list (all or unread), live arrivals, and marking read — selected ones in one batch, or all
// up to the newest shown (a watermark, so one that arrives meanwhile stays unread).
import { api } from "../api.js";
import { formatCredits, formatDate, formatRelative, h } from "../dom.js";
import { live } from "../events.js";
import { unread } from "../header.js";
import { navigate } from "../router.js";
import { pagedList, problem, toast } from "../ui.js";
import { avatar } from "../video-card.js";
import { page, screen } from "./common.js";

// What each type is called, and where it leads besides its actor and video.
const kinds = {
  like: { label: "Like" },
  follow: { label: "New follower" },
  effect_succeeded: { label: "Effect ready", link: ["#/effects", "See your effect jobs"] },
  effect_failed: { label: "Effect failed", link: ["#/effects", "See your effect jobs"] },
  purchase_credited: { label: "Purchase credited", link: ["#/wallet", "Open your wallet"] },
  payment_refunded: { label: "Payment refunded", link: ["#/wallet", "Open your wallet"] },
  subscription_renewed: { label: "Subscription renewed", link: ["#/subscriptions", "Manage your subscription"] },
  subscription_payment_failed: { label: "Subscription payment failed", link: ["#/subscriptions", "Manage your subscription"] },
  credits_expiring: { label: "Credits expiring", link: ["#/wallet", "Open your wallet"] },
  referral_rewarded: { label: "Referral reward", link: ["#/wallet", "Open your wallet"] },
  report_resolved: { label: "Report resolved", link: ["#/reports", "See your reports"] },
  video_removed: { label: "Video removed" },
};

function notificationItem(notification, selection) {
  const kind = kinds[notification.type] ?? { label: "Notification" };
  const isUnread = !notification.read_at;
  const links = [];
  if (notification.actor) {
    links.push(h("a", { href: `#/users/${notification.actor.id}` },
      notification.actor.display_name || notification.actor.username));
  }
  if (notification.video) {
    // A removed video has no page to open any more.
    links.push(notification.type === "video_removed"
      ? h("span", {}, notification.video.title)
      : h("a", { href: `#/videos/${notification.video.id}` }, notification.video.title));
  }
  if (kind.link) links.push(h("a", { href: kind.link[0] }, kind.link[1]));

  const checkbox = h("input", {
    type: "checkbox", class: "select-notification", value: notification.id,
    "aria-label": `Select: ${notification.text}`,
  });
  checkbox.addEventListener("change", () => selection.changed());
  const item = h("article", {
    class: `card notification ${isUnread ? "unread" : ""}`,
    dataset: { notificationId: notification.id },
    "aria-label": `${isUnread ? "Unread: " : ""}${notification.text}`,
  },
    isUnread ? checkbox : h("span", { class: "select-placeholder", "aria-hidden": "true" }),
    notification.actor ? avatar(notification.actor) : null,
    h("div", { class: "notification-body stack-sm" },
      h("p", { class: "small muted" },
        h("strong", {}, kind.label),
        isUnread && h("span", { class: "badge unread-mark" }, "New"),
        " · ",
        h("time", { datetime: notification.created_at, title: formatDate(notification.created_at) },
          formatRelative(notification.created_at))),
      h("p", {}, notification.text),
      notification.credits !== null && notification.credits !== undefined
        && h("p", { class: "small" }, formatCredits(notification.credits)),
      links.length > 0 && h("p", { class: "row small" }, links)));
  item.markRead = () => {
    item.classList.remove("unread");
    item.setAttribute("aria-label", notification.text);
    notification.read_at = notification.read_at ?? new Date().toISOString();
    checkbox.replaceWith(h("span", { class: "select-placeholder", "aria-hidden": "true" }));
    item.querySelector(".unread-mark")?.remove();
  };
  return item;
}

function renderNotifications(main, _params, query) {
  const { root } = screen(main, "Notifications");
  const unreadOnly = query.get("unread") === "true";
  const filter = h("input", { type: "checkbox", id: "unread-only", checked: unreadOnly });
  filter.addEventListener("change", () => navigate(filter.checked ? "#/notifications?unread=true" : "#/notifications"));

  const markSelected = h("button", { type: "button", class: "btn", disabled: true }, "Mark selected as read");
  const markAll = h("button", { type: "button", class: "btn btn-primary" }, "Mark all as read");
  const status = h("div");
  root.append(
    h("div", { class: "row row-between" },
      h("label", { class: "checkbox", for: "unread-only" }, filter, "Unread only"),
      h("div", { class: "row" }, markSelected, markAll)),
    status);

  const shown = new Map(); // notification id → its element, newest first by insertion
  let newestId = null;
  const selection = {
    changed() {
      markSelected.disabled = root.querySelectorAll(".select-notification:checked").length === 0;
    },
  };
  const render = (notification) => {
    if (shown.has(notification.id)) return null; // a live one that the first page also returned
    const item = notificationItem(notification, selection);
    shown.set(notification.id, item);
    return item;
  };
  const list = pagedList({
    label: "Notifications",
    empty: unreadOnly ? "No unread notifications." : "No notifications yet.",
    fetchPage: async (cursor) => {
      const answer = page(await api("/v1/notifications", { query: { cursor, limit: 20, unread: unreadOnly ? "true" : undefined } }), "notifications");
      if (!cursor && answer.items[0]) newestId ??= answer.items[0].id;
      return answer;
    },
    renderItem: render,
  });
  root.append(list);

  const stopLive = live.on("notification", (notification) => {
    list.prepend(notification);
    newestId = notification.id;
  });

  // The stream could not replay what we missed: read the list again.
  const stopReset = live.on("reset", () => {
    shown.clear();
    newestId = null;
    list.reload();
  });

  markSelected.addEventListener("click", async () => {
    const ids = [...root.querySelectorAll(".select-notification:checked")].map((c) => c.value);
    if (ids.length === 0) return;
    markSelected.disabled = true;
    status.replaceChildren();
    try {
      // The API takes at most 100 ids per batch.
      for (let i = 0; i < ids.length; i += 100) {
        const { read_notifications: read } = await api("/v1/notifications/read-batch", {
          method: "POST", body: { notification_ids: ids.slice(i, i + 100) },
        });
        for (const [id, ok] of Object.entries(read)) if (ok) shown.get(id)?.markRead();
      }
      toast(ids.length === 1 ? "Marked as read." : `Marked ${ids.length} as read.`, { kind: "success" });
    } catch (error) {
      status.replaceChildren(problem(error));
    }
    selection.changed();
    unread.refresh();
  });

  markAll.addEventListener("click", async () => {
    markAll.disabled = true;
    status.replaceChildren();
    try {
      // Everything up to the newest notification on screen: one that arrives meanwhile stays unread.
      const body = newestId ? { up_to: newestId } : {};
      const { updated } = await api("/v1/notifications/read-all", { method: "POST", body });
      for (const item of shown.values()) item.markRead();
      toast(updated === 0 ? "Nothing was unread." : `Marked ${updated} as read.`, { kind: "success" });
    } catch (error) {
      status.replaceChildren(problem(error));
    }
    markAll.disabled = false;
    selection.changed();
    unread.refresh();
  });

  return () => {
    stopLive();
    stopReset();
    list.destroy();
  };
}

export const routes = [{ path: "/notifications", title: "Notifications", auth: true, render: renderNotifications }];
