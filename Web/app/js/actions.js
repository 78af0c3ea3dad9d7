// The social actions shared by cards, profiles and search rows: each one call, answered with the new state.
import { api } from "./api.js";
import { h } from "./dom.js";
import { navigate } from "./router.js";
import { session } from "./session.js";
import { confirmDialog, field, formDialog, problem, showFormErrors, toast } from "./ui.js";

/** Sends a signed-out visitor to sign in first (and back here after); returns false then. */
export function requireSignIn() {
  if (session.signedIn) return true;
  navigate(`#/login?next=${encodeURIComponent(location.hash.replace(/^#/, "") || "/")}`);
  return false;
}

/** Like or unlike → `{video_id, is_liked, like_count}`. */
export function setLiked(videoId, liked) {
  return api(`/v1/likes/videos/${videoId}`, { method: liked ? "POST" : "DELETE" });
}

/** Follow or unfollow → `{user_id, is_following, follower_count}`. */
export function setFollowing(userId, following) {
  return api(`/v1/follows/${userId}`, { method: following ? "POST" : "DELETE" });
}

/** Bookmark or remove → `{video_id, is_bookmarked}`. */
export function setBookmarked(videoId, bookmarked) {
  return api(`/v1/bookmarks/videos/${videoId}`, { method: bookmarked ? "POST" : "DELETE" });
}

/** Asks, then blocks `user`; resolves true once blocked. */
export async function blockUser(user) {
  const name = user.display_name || user.username;
  const sure = await confirmDialog(
    `Block ${name}? You will not see each other's videos or profiles, and follows between you are removed.`,
    { confirmLabel: "Block", danger: true });
  if (!sure) return false;
  try {
    await api(`/v1/blocks/${user.id}`, { method: "POST" });
    toast(`Blocked ${name}.`, { kind: "success" });
    return true;
  } catch (error) {
    toast(error.detail ?? "Could not block", { kind: "error" });
    return false;
  }
}

export const reportCategories = [
  ["spam", "Spam"], ["harassment", "Harassment"], ["sexual", "Sexual content"],
  ["violence", "Violence"], ["illegal", "Illegal"], ["other", "Other"],
];

/** The report form in a dialog, for a video or a user; resolves with the report, or undefined if cancelled. */
export function reportDialog(targetType, targetId, targetName) {
  const title = targetType === "video" ? "Report video" : "Report user";
  return formDialog(title, (form, close) => {
    const category = h("select", { name: "category", required: true },
      reportCategories.map(([value, label]) => h("option", { value }, label)));
    const comment = h("textarea", { name: "comment", rows: 3, maxlength: 1000 });
    const slot = h("div");
    const submit = h("button", { type: "submit", class: "btn btn-danger" }, "Send report");
    form.append(
      targetName && h("p", { class: "muted" }, targetName),
      field("Category", category),
      field("Comment (optional)", comment),
      slot,
      h("div", { class: "row row-end" },
        h("button", { type: "button", class: "btn btn-ghost", onclick: () => close(undefined) }, "Cancel"),
        submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const body = { target_type: targetType, target_id: targetId, category: category.value };
        if (comment.value.trim()) body.comment = comment.value.trim();
        const report = await api("/v1/reports", { method: "POST", body });
        toast("Report sent. Moderators will review it.", { kind: "success" });
        close(report);
      } catch (error) {
        showFormErrors(form, slot, error);
        submit.disabled = false;
      }
    });
  });
}

/**
 * A toggle button whose accessible name stays `label` while `aria-pressed` carries its state; a check mark
 * (hidden from assistive technology, which hears "pressed") shows the state to the eye.
 */
export function toggleButton(label, pressed, className = "") {
  return h("button", { type: "button", class: `btn toggle ${className}`.trim(), "aria-pressed": String(Boolean(pressed)) },
    h("span", { class: "toggle-check", "aria-hidden": "true" }, "✓"), label);
}

/**
 * The Follow toggle for `user`: its name stays "Follow" and `aria-pressed` says whether the viewer follows
 * (a toggle whose label changed too would say the state twice). `onChange(answer)` runs after each change.
 */
export function followButton(user, isFollowing, { onChange } = {}) {
  let following = Boolean(isFollowing);
  const button = toggleButton("Follow", following, "follow-btn");
  const paint = () => button.setAttribute("aria-pressed", String(following));
  paint();
  if (session.user?.id === user.id) button.hidden = true;
  button.addEventListener("click", async () => {
    if (!requireSignIn()) return;
    button.disabled = true;
    try {
      const answer = await setFollowing(user.id, !following);
      following = answer.is_following;
      paint();
      onChange?.(answer);
    } catch (error) {
      toast(error.detail ?? "Could not follow", { kind: "error" });
    } finally {
      button.disabled = false;
    }
  });
  button.setFollowing = (value) => { following = Boolean(value); paint(); };
  return button;
}

export { problem };
