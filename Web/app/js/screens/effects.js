// AI effects: apply one to a video (paid in credits when the job is accepted) and follow the jobs, whose status
// changes live from `job` events: queued → running → succeeded (with its output) or failed (and refunded).
import { api } from "../api.js";
import { h, formatCredits, formatDate, formatRelative } from "../dom.js";
import { session } from "../session.js";
import { live } from "../events.js";
import { field, loading, pagedList, problem } from "../ui.js";
import { attemptKeeper, isUnsettled } from "../commerce/attempts.js";
import { fill, panel, screen, whileBusy } from "../commerce/widgets.js";

export const routes = [{ path: "/effects", title: "Effects", auth: true, render: renderEffects }];

const STATUS_TEXT = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };
// Core's plain `.badge` is the alert colour: failed keeps it, success is green, the rest neutral.
const STATUS_BADGE = { succeeded: "badge-success", failed: "" };

async function renderEffects(main, _params, query) {
  const effectsBody = h("div", { class: "stack" }, loading("Loading effects…"));
  const jobsBody = h("div", { class: "stack" });
  main.append(screen("Effects", "effects",
    panel("Apply an effect", effectsBody),
    panel("Your jobs", jobsBody)));

  const effectNames = new Map(); // effect id → name, for the jobs list
  const videoTitles = new Map(); // video id → title, for the jobs list
  const jobRows = new Map(); // job id → { update(job) } for rows on screen
  const attempts = attemptKeeper();
  // Names and titles for the job rows; the jobs list waits for them (not for their failure) before its first page.
  const lookups = Promise.all([
    api("/v1/effects", { auth: false }),
    myVideos(),
    query.get("video") ? videoById(query.get("video")) : null,
  ]).then(([{ effects }, videos, preselected]) => {
    for (const effect of effects) effectNames.set(effect.id, effect.name);
    const choices = preselected && !videos.some((v) => v.id === preselected.id) ? [preselected, ...videos] : videos;
    for (const video of choices) videoTitles.set(video.id, video.title);
    return { effects, choices, preselected };
  });

  const jobs = pagedList({
    label: "Effect jobs",
    empty: "No jobs yet. Apply an effect to one of your videos.",
    fetchPage: async (cursor) => {
      await lookups.catch(() => null);
      const page = await api("/v1/effects/jobs", { query: { cursor: cursor ?? undefined, limit: 20 } });
      return { items: page.jobs, nextCursor: page.next_cursor, hasMore: page.has_more };
    },
    renderItem: (job) => {
      if (jobRows.has(job.job_id)) return null; // already shown (it arrived live before its page loaded)
      return jobRow(job);
    },
  });
  jobsBody.append(jobs);

  function jobRow(job) {
    const status = h("span", { class: "badge job-status", role: "status" });
    const outcome = h("div", { class: "job-outcome" });
    const updated = h("p", { class: "muted small" });
    const title = h("h3", { class: "job-title" });
    const row = h("article", { class: "card job stack", dataset: { jobId: job.job_id }, "aria-labelledby": `job-${job.job_id}` },
      h("div", { class: "row job-head" }, title, status),
      h("p", { class: "muted" }, "Video: ", h("a", { href: `#/videos/${job.video_id}` }, videoTitles.get(job.video_id) ?? "open the video")),
      outcome,
      updated);
    title.id = `job-${job.job_id}`;

    const update = (next) => {
      title.textContent = effectNames.get(next.effect_id) ?? next.effect_id;
      status.textContent = STATUS_TEXT[next.status] ?? next.status;
      status.className = `badge job-status job-${next.status} ${STATUS_BADGE[next.status] ?? "badge-neutral"}`;
      row.dataset.status = next.status;
      updated.textContent = `${formatCredits(next.credits_charged)} · started ${formatDate(next.created_at)}`
        + (next.updated_at && next.updated_at !== next.created_at ? ` · updated ${formatRelative(next.updated_at)}` : "");
      if (next.status === "succeeded") {
        fill(outcome, next.output_url
          ? h("a", { class: "btn", href: next.output_url, target: "_blank", rel: "noopener noreferrer" }, "Open the result")
          : h("p", {}, "Done."));
      } else if (next.status === "failed") {
        fill(outcome,
          h("p", { class: "problem" }, next.error || "The effect failed."),
          h("p", {}, `Refunded ${formatCredits(next.credits_charged)}.`));
      } else {
        fill(outcome);
      }
    };
    update(job);
    jobRows.set(job.job_id, { update });
    return row;
  }

  // A job event for a row on screen changes it in place; a job started elsewhere (another tab) is prepended.
  function upsert(job) {
    if (!job?.job_id) return;
    const shown = jobRows.get(job.job_id);
    if (shown) shown.update(job);
    else jobs.prepend(job);
  }

  const unsubscribe = [
    live.on("job", upsert),
    live.on("reset", () => {
      jobRows.clear();
      jobs.reload();
    }),
  ];

  try {
    const { effects, choices, preselected } = await lookups;
    fill(effectsBody, applyForm(effects, choices, preselected?.id ?? query.get("video")));
  } catch (error) {
    fill(effectsBody, problem(error));
  }

  function applyForm(effects, videos, selectedVideo) {
    if (effects.length === 0) return h("p", { class: "empty" }, "No effects are available.");
    if (videos.length === 0) {
      return h("p", { class: "empty" }, "You have no videos yet. ", h("a", { href: "#/post" }, "Post a video"), " to apply an effect to it.");
    }
    const video = h("select", { name: "video_id" },
      videos.map((v) => h("option", { value: v.id, selected: v.id === selectedVideo }, v.title)));
    const result = h("div", { class: "stack", "aria-live": "polite" });
    // The video choice changes what the next click means: an unsettled attempt no longer applies.
    video.addEventListener("change", () => attempts.forget());
    return h("div", { class: "stack" },
      field("Video", video),
      h("ul", { class: "grid effect-list", "aria-label": "Effects" }, effects.map((effect) => {
        const button = h("button", {
          type: "button", class: "btn btn-primary",
          onclick: () => whileBusy(button, () => apply(effect, video.value, result)),
        }, `Apply ${effect.name}`);
        return h("li", { class: "card effect stack" },
          h("h3", {}, effect.name),
          h("p", { class: "muted" }, formatCredits(effect.credits)),
          button);
      })),
      result);
  }

  async function apply(effect, videoId, result) {
    fill(result, loading(`Starting ${effect.name}…`));
    try {
      const answer = await attempts.run(`${effect.id}|${videoId}`, null, (key) =>
        api(`/v1/effects/${encodeURIComponent(effect.id)}/jobs`, { method: "POST", body: { video_id: videoId }, idempotencyKey: key }));
      fill(result, h("p", { class: "success", role: "status" },
        `${effect.name} is queued: ${formatCredits(answer.credits_charged)} charged, ${formatCredits(answer.new_balance)} left.`));
      const now = new Date().toISOString();
      upsert({
        job_id: answer.job_id, effect_id: effect.id, video_id: videoId, status: answer.status,
        credits_charged: answer.credits_charged, created_at: now, updated_at: now,
      });
    } catch (error) {
      fill(result, problem(error), insufficientHint(error), isUnsettled(error)
        ? h("p", { class: "muted" }, "Try again: the retry continues this attempt and is never charged twice.")
        : null);
    }
  }

  return () => {
    unsubscribe.forEach((off) => off());
    jobs.destroy?.();
  };
}

/** For a 402 insufficient_credits: what it costs against what there is, and the way to the wallet. */
function insufficientHint(error) {
  if (error?.code !== "insufficient_credits") return null;
  const { required, balance } = error.body ?? {};
  return h("p", { class: "insufficient" },
    Number.isFinite(required) ? `Needs ${formatCredits(required)}; your balance is ${formatCredits(balance)}. ` : "",
    h("a", { href: "#/wallet" }, "Buy credits in your wallet"));
}

/** The caller's own videos, newest first (first 100: enough to pick from; the query string preselects others). */
async function myVideos() {
  const page = await api(`/v1/users/${encodeURIComponent(session.user.id)}/videos`, { query: { limit: 100 } });
  return page.videos ?? [];
}

async function videoById(id) {
  try {
    return await api(`/v1/videos/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error.status === 404) return null; // a stale link: the picker still offers the caller's own videos
    throw error;
  }
}
