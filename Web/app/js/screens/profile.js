// A user's profile: header with counts and Follow, tabs of videos / followers / following; your own adds the
// edit form and your referral code.
import { api } from "../api.js";
import { blockUser, followButton, reportDialog, requireSignIn } from "../actions.js";
import { h } from "../dom.js";
import { navigate } from "../router.js";
import { session } from "../session.js";
import { field, loading, menuButton, pagedList, problem, showFormErrors, toast, videoCard } from "../ui.js";
import { avatar } from "../video-card.js";
import { page, replaceQuery, screen, tabs, userRow } from "./common.js";

const tabNames = [["videos", "Videos"], ["followers", "Followers"], ["following", "Following"]];

async function renderProfile(main, { id }, query) {
  if (id === "me") {
    if (!requireSignIn()) return;
    navigate(`#/users/${session.user.id}`, { replace: true });
    return;
  }
  const { root, heading } = screen(main, "Profile");
  const status = loading("Loading the profile…");
  root.append(status);
  let user;
  let following = false;
  try {
    const own = session.user?.id === id;
    [user, following] = await Promise.all([
      api(`/v1/users/${encodeURIComponent(id)}`),
      session.signedIn && !own
        ? api(`/v1/follows/${encodeURIComponent(id)}/check`).then((a) => a.is_following)
        : Promise.resolve(false),
    ]);
  } catch (error) {
    status.replaceWith(problem(error));
    return;
  }
  status.remove();
  const own = session.user?.id === user.id;
  const name = user.display_name || user.username;
  document.title = `${name} · Reelbase`;
  heading.textContent = name;

  const counts = {
    followers: h("strong", {}, String(user.follower_count)),
    following: h("strong", {}, String(user.following_count)),
    videos: h("strong", {}, String(user.video_count)),
  };
  const actions = h("div", { class: "row" });
  if (!own) {
    actions.append(followButton(user, following, {
      onChange: (answer) => { counts.followers.textContent = String(answer.follower_count); },
    }));
    actions.append(menuButton("More", (close) => [
      h("button", {
        type: "button", class: "menu-item", onclick: async () => {
          close();
          if (requireSignIn() && await blockUser(user)) navigate("#/blocked");
        },
      }, "Block user"),
      h("button", {
        type: "button", class: "menu-item",
        onclick: () => { close(); if (requireSignIn()) reportDialog("user", user.id, `${name} (@${user.username})`); },
      }, "Report user"),
    ], { buttonLabel: `More actions for ${name}` }));
  }

  const headerCard = h("div", { class: "card profile-header" },
    avatar(user, "lg"),
    h("div", { class: "profile-text stack-sm" },
      heading,
      h("p", { class: "muted" }, `@${user.username}`),
      user.bio && h("p", { class: "bio" }, user.bio),
      h("p", { class: "counts" },
        h("span", {}, counts.followers, " followers"),
        h("span", {}, counts.following, " following"),
        h("span", {}, counts.videos, " videos")),
      actions));
  root.append(headerCard);
  if (own) root.append(editProfileForm(), referralCard());

  // Tabs: the selected one is kept in the fragment (`?tab=followers`) so it can be linked and reloaded.
  const selected = tabNames.some(([key]) => key === query.get("tab")) ? query.get("tab") : "videos";
  let list = null;
  const { list: tabList, panel } = tabs("Profile sections", tabNames, selected, (key) => {
    replaceQuery("tab", key === "videos" ? null : key);
    show(key);
  });
  function show(key) {
    list?.destroy();
    if (key === "videos") {
      list = pagedList({
        label: "Videos", itemsClass: "grid",
        empty: own ? "You have not posted a video yet." : "No videos yet.",
        fetchPage: async (cursor) => page(await api(`/v1/users/${user.id}/videos`, { query: { cursor, limit: 12 } }), "videos"),
        renderItem: (video) => videoCard(video, {
          headingLevel: "h3",
          followOwner: false,
          onRemoved: () => { counts.videos.textContent = String(Math.max(0, Number(counts.videos.textContent) - 1)); },
        }),
      });
    } else {
      list = pagedList({
        label: key === "followers" ? "Followers" : "Following",
        empty: key === "followers" ? "No followers yet." : "Not following anyone yet.",
        fetchPage: async (cursor) => page(await api(`/v1/users/${user.id}/${key === "followers" ? "followers" : "following"}`, { query: { cursor, limit: 20 } }), "users"),
        renderItem: (row) => userRow(row),
      });
    }
    panel.replaceChildren(list);
  }
  root.append(tabList, panel);
  show(selected);
  return () => list?.destroy();
}

function editProfileForm() {
  const me = session.user;
  const displayName = h("input", { name: "display_name", type: "text", maxlength: 100, value: me.display_name ?? "" });
  const bio = h("textarea", { name: "bio", rows: 3, maxlength: 500 }, me.bio ?? "");
  const avatarUrl = h("input", { name: "avatar_url", type: "url", inputmode: "url", value: me.avatar_url ?? "", placeholder: "https://…" });
  const slot = h("div");
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Save profile");
  const form = h("form", { class: "stack", novalidate: true },
    field("Display name", displayName), field("Bio", bio), field("Avatar URL", avatarUrl), slot,
    h("div", { class: "row" }, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const body = { display_name: displayName.value.trim(), bio: bio.value.trim() || null };
      // An empty avatar field clears the avatar.
      body.avatar_url = avatarUrl.value.trim() || null;
      await api("/v1/users/me", { method: "PATCH", body });
      await session.refreshMe();
      toast("Profile saved.", { kind: "success" });
      navigate(location.hash); // re-render the header card with the new profile
    } catch (error) {
      showFormErrors(form, slot, error);
      button.disabled = false;
    }
  });
  return h("details", { class: "card" }, h("summary", {}, "Edit profile"), form);
}

function referralCard() {
  const code = session.user.referral_code;
  if (!code) return null;
  const link = `${location.origin}/#/signup?ref=${encodeURIComponent(code)}`;
  const linkInput = h("input", { type: "text", readonly: true, value: link, id: "referral-link", class: "input" });
  const copy = h("button", { type: "button", class: "btn" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(link);
      toast("Signup link copied.", { kind: "success" });
    } catch {
      // No clipboard permission: leave the link selected for a manual copy.
      linkInput.focus();
      linkInput.select();
      toast("Press Ctrl+C (or ⌘C) to copy the selected link.");
    }
  });
  return h("section", { class: "card stack-sm", "aria-labelledby": "referral-heading" },
    h("h2", { id: "referral-heading" }, "Invite friends"),
    h("p", {}, "Your referral code: ", h("span", { class: "code" }, code)),
    h("p", { class: "muted small" }, "When someone signs up with it and makes their first purchase, you both get bonus credits."),
    h("label", { for: "referral-link", class: "small" }, "Signup link"),
    h("div", { class: "copy-row" }, linkInput, copy));
}

export const routes = [
  { path: "/users/:id", title: "Profile", auth: false, render: renderProfile },
  { path: "/profile", title: "Profile", auth: true, render: (main) => renderProfile(main, { id: "me" }, new URLSearchParams()) },
];
