// The feed, a video's own page, and posting a video by URL.
import { api } from "../api.js";
import { h } from "../dom.js";
import { navigate } from "../router.js";
import { session } from "../session.js";
import { field, loading, pagedList, problem, showFormErrors, toast, videoCard } from "../ui.js";
import { page, screen } from "./common.js";

function renderFeed(main) {
  const { root, heading } = screen(main, "Feed");
  const top = h("div", { class: "row row-between feed-list" }, heading,
    session.signedIn
      ? h("a", { href: "#/post", class: "btn btn-primary" }, "Post a video")
      : h("a", { href: "#/login?next=%2F", class: "btn" }, "Sign in to like and follow"));
  root.append(top);
  // One request per page: with a token, each video carries the viewer's like/follow/bookmark state.
  const list = pagedList({
    label: "Videos",
    itemsClass: "stack feed-list",
    empty: h("div", { class: "empty stack-sm" },
      h("p", {}, "No videos yet."),
      session.signedIn && h("p", {}, h("a", { href: "#/post" }, "Post the first one"))),
    fetchPage: async (cursor) => page(await api("/v1/videos/", { query: { cursor, limit: 10 } }), "videos"),
    renderItem: (video) => videoCard(video),
  });
  root.append(list);
  return () => list.destroy();
}

async function renderVideo(main, { id }) {
  const { root, heading } = screen(main, "Video", { className: "video-page" });
  heading.classList.add("visually-hidden");
  const status = loading("Loading the video…");
  root.append(status);
  try {
    const video = await api(`/v1/videos/${encodeURIComponent(id)}`);
    document.title = `${video.title} · Reelbase`;
    heading.remove();
    status.remove();
    root.append(videoCard(video, {
      headingLevel: "h1",
      onRemoved: () => navigate("#/"),
    }));
  } catch (error) {
    heading.classList.remove("visually-hidden");
    status.replaceWith(problem(error), h("p", {}, h("a", { href: "#/" }, "Back to the feed")));
  }
}

function renderPost(main) {
  const { root } = screen(main, "Post a video", { narrow: true });
  const title = h("input", { name: "title", type: "text", required: true, maxlength: 200 });
  const description = h("textarea", { name: "description", rows: 4, maxlength: 5000 });
  const videoUrl = h("input", { name: "video_url", type: "url", required: true, inputmode: "url", placeholder: "https://…" });
  const thumbnailUrl = h("input", { name: "thumbnail_url", type: "url", inputmode: "url", placeholder: "https://…" });
  const duration = h("input", { name: "duration_seconds", type: "number", required: true, min: 1, max: 3600, step: 1, inputmode: "numeric" });
  const slot = h("div");
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Post video");
  const form = h("form", { class: "card stack", novalidate: true },
    field("Title", title),
    field("Description (optional)", description),
    field("Video URL", videoUrl, { hint: "A link to the video file (https)" }),
    field("Thumbnail URL (optional)", thumbnailUrl),
    field("Duration (seconds)", duration, { hint: "1 to 3600" }),
    slot, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    // The API validates every field and names each bad one; the form only shapes the body.
    const body = {
      title: title.value.trim(),
      video_url: videoUrl.value.trim(),
      duration_seconds: duration.value === "" ? null : Number(duration.value),
    };
    if (description.value.trim()) body.description = description.value.trim();
    if (thumbnailUrl.value.trim()) body.thumbnail_url = thumbnailUrl.value.trim();
    try {
      const video = await api("/v1/videos/", { method: "POST", body });
      toast("Your video is posted.", { kind: "success" });
      navigate(`#/videos/${video.id}`);
    } catch (error) {
      showFormErrors(form, slot, error);
      button.disabled = false;
    }
  });
  root.append(form);
}

export const routes = [
  { path: "/", title: "Feed", auth: false, render: renderFeed },
  { path: "/feed", title: "Feed", auth: false, render: renderFeed },
  { path: "/videos/:id", title: "Video", auth: false, render: renderVideo },
  { path: "/post", title: "Post a video", auth: true, render: renderPost },
];
