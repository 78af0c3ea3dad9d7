// The video card of feeds, lists, search and bookmarks. Its toggles start from the video's own viewer state
// (`is_liked`, `is_following`, `is_bookmarked`, sent with the list), so a page of cards costs one request.
import { api } from "./api.js";
import { blockUser, followButton, reportDialog, requireSignIn, setBookmarked, setLiked, toggleButton } from "./actions.js";
import { formatDuration, formatRelative, formatDate, h } from "./dom.js";
import { session } from "./session.js";
import { confirmDialog, menuButton, toast } from "./ui.js";

/** The `<video>` player: controls, metadata only until played, inline on phones, never autoplaying. */
export function videoPlayer(video) {
  const player = h("video", {
    class: "player",
    controls: true,
    preload: "metadata",
    playsinline: true,
    poster: video.thumbnail_url || undefined,
    src: video.video_url,
    "aria-label": `Video: ${video.title}`,
  });
  // A media URL that does not load is an expected state of user-posted links, not a script error: say so in place.
  player.addEventListener("error", () => {
    player.replaceWith(h("div", { class: "player player-failed", role: "img", "aria-label": "Video unavailable" },
      h("p", {}, "This video could not be loaded.")));
  });
  return player;
}

/** A user's avatar (decorative: the name beside it says who), or their initial when there is none or it fails. */
export function avatar(user, size = "sm") {
  const initial = h("span", { class: `avatar avatar-${size} avatar-initial`, "aria-hidden": "true" },
    (user.display_name || user.username || "?").slice(0, 1).toUpperCase());
  if (!user.avatar_url) return initial;
  const img = h("img", { class: `avatar avatar-${size}`, src: user.avatar_url, alt: "", loading: "lazy" });
  img.addEventListener("error", () => img.replaceWith(initial));
  return img;
}

/** "Ann Lee @ann" as a link to the profile. */
export function userLink(user) {
  return h("a", { href: `#/users/${user.id}`, class: "user-link" },
    avatar(user),
    h("span", { class: "user-names" },
      h("span", { class: "display-name" }, user.display_name || user.username),
      h("span", { class: "muted small" }, `@${user.username}`)));
}

/**
 * The card of `video`. `onRemoved(video)` runs when the card leaves its list (the owner was blocked, the video
 * deleted, or — with `removeOnUnbookmark` — unbookmarked). `followOwner: false` leaves out the Follow toggle
 * (a profile's own list, whose header has it).
 */
export function videoCard(video, { onRemoved, removeOnUnbookmark = false, headingLevel = "h2", followOwner = true } = {}) {
  const owner = video.user;
  const own = session.user?.id === owner.id;
  const titleId = `video-title-${video.id}`;
  const card = h("article", {
    class: "card video-card",
    "aria-labelledby": titleId,
    dataset: { videoId: video.id, ownerId: owner.id },
  });
  const remove = () => {
    const row = card.closest(".paged-item") ?? card;
    // Focus inside the card would fall to <body>: hand it to the next card (or the screen's heading) instead.
    const hadFocus = card.contains(document.activeElement);
    const next = row.nextElementSibling?.querySelector("a, button");
    row.remove();
    if (hadFocus) (next ?? document.querySelector("main h1"))?.focus();
    onRemoved?.(video);
  };

  // Like: the label stays "Like"; aria-pressed carries the state and the count sits beside it.
  let liked = Boolean(video.is_liked);
  const likeCount = h("span", { class: "count", "aria-live": "polite" });
  const paintLikes = (count) => { likeCount.textContent = `${count} ${count === 1 ? "like" : "likes"}`; };
  paintLikes(video.like_count ?? 0);
  const like = toggleButton("Like", liked, "like-btn");
  like.addEventListener("click", async () => {
    if (!requireSignIn()) return;
    like.disabled = true;
    try {
      const answer = await setLiked(video.id, !liked);
      liked = answer.is_liked;
      like.setAttribute("aria-pressed", String(liked));
      paintLikes(answer.like_count);
    } catch (error) {
      if (error.status === 404) remove();
      toast(error.detail ?? "Could not like", { kind: "error" });
    } finally {
      like.disabled = false;
    }
  });

  let bookmarked = Boolean(video.is_bookmarked);
  const bookmark = toggleButton("Bookmark", bookmarked, "bookmark-btn");
  bookmark.addEventListener("click", async () => {
    if (!requireSignIn()) return;
    bookmark.disabled = true;
    try {
      const answer = await setBookmarked(video.id, !bookmarked);
      bookmarked = answer.is_bookmarked;
      bookmark.setAttribute("aria-pressed", String(bookmarked));
      toast(bookmarked ? "Saved to bookmarks." : "Removed from bookmarks.");
      if (!bookmarked && removeOnUnbookmark) remove();
    } catch (error) {
      toast(error.detail ?? "Could not bookmark", { kind: "error" });
    } finally {
      bookmark.disabled = false;
    }
  });

  // Following an owner from one card updates every card of that owner on the page.
  const follow = own || !followOwner ? null : followButton(owner, video.is_following, {
    onChange: (answer) => {
      for (const button of document.querySelectorAll(`[data-follow-user="${owner.id}"]`)) {
        button.setFollowing?.(answer.is_following);
      }
    },
  });
  if (follow) follow.dataset.followUser = owner.id;

  const more = menuButton("More", (close) => {
    const items = [];
    if (!own) {
      items.push(h("button", {
        type: "button", class: "menu-item", onclick: async () => {
          close();
          if (!requireSignIn()) return;
          if (await blockUser(owner)) {
            // Blocking hides every video of theirs, not just this one.
            for (const other of document.querySelectorAll(`[data-owner-id="${owner.id}"]`)) {
              if (other !== card) other.dispatchEvent(new CustomEvent("reelbase:hidden"));
            }
            remove();
          }
        },
      }, "Block user"));
      items.push(h("button", {
        type: "button", class: "menu-item",
        onclick: () => { close(); if (requireSignIn()) reportDialog("video", video.id, video.title); },
      }, "Report video"));
      items.push(h("button", {
        type: "button", class: "menu-item",
        onclick: () => {
          close();
          if (requireSignIn()) reportDialog("user", owner.id, `${owner.display_name || owner.username} (@${owner.username})`);
        },
      }, "Report user"));
    }
    items.push(h("a", { class: "menu-item", href: `#/effects?video=${video.id}`, onclick: close }, "Apply an effect"));
    if (own) {
      items.push(h("button", {
        type: "button", class: "menu-item menu-danger", onclick: async () => {
          close();
          if (!(await confirmDialog(`Delete "${video.title}"? This cannot be undone.`, { confirmLabel: "Delete", danger: true }))) return;
          try {
            await api(`/v1/videos/${video.id}`, { method: "DELETE" });
            toast("Video deleted.", { kind: "success" });
            remove();
          } catch (error) {
            toast(error.detail ?? "Could not delete", { kind: "error" });
          }
        },
      }, "Delete video"));
    }
    return items;
  });
  card.addEventListener("reelbase:hidden", remove);

  card.append(
    videoPlayer(video),
    h("div", { class: "video-body stack-sm" },
      // On the video's own page (h1) the title is not a link to the page itself.
      h(headingLevel, { class: "video-title", id: titleId },
        headingLevel === "h1" ? video.title : h("a", { href: `#/videos/${video.id}` }, video.title)),
      h("div", { class: "row video-meta" },
        h("div", { class: "row" }, userLink(owner), follow),
        h("span", { class: "muted small" },
          h("time", { datetime: video.created_at, title: formatDate(video.created_at) }, formatRelative(video.created_at)),
          ` · ${formatDuration(video.duration_seconds)}`)),
      video.description && h("p", { class: "video-description" }, video.description),
      h("div", { class: "row actions" }, like, likeCount, bookmark, more)));
  return card;
}
