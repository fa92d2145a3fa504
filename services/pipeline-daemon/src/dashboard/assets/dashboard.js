// The dashboard's one script. Pages are rendered by `dumcel-pipeline serve`;
// this only (1) sends a confirmed action to the JSON API with the session's
// CSRF token and (2) follows the project's Server-Sent Events to redraw
// what changed. Text from events is set with textContent, never as HTML.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

// Forms with data-api post their data-body to that API route, then go to
// data-then (with the queued deployment's id appended when it ends in "/").
for (const form of document.querySelectorAll("form[data-api]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    const error = form.querySelector(".error");
    button.disabled = true;
    try {
      const response = await fetch(form.dataset.api, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: form.dataset.body ?? "",
        redirect: "manual",
      });
      // A sign-out answers with a redirect: done.
      if (response.type === "opaqueredirect" || response.ok) {
        const answer = response.ok ? await response.json().catch(() => ({})) : {};
        let then = form.dataset.then ?? "/";
        if (then.endsWith("/") && answer.delivery) then += encodeURIComponent(answer.delivery);
        location.assign(then);
        return;
      }
      const answer = await response.json().catch(() => ({}));
      throw new Error(answer.error?.message ?? `the server answered ${response.status}`);
    } catch (e) {
      if (error) {
        error.textContent = e.message;
        error.hidden = false;
      }
      button.disabled = false;
    }
  });
}

// Replaces the elements matching `selector` with this page's fresh copy.
async function redraw(selector) {
  const response = await fetch(location.href, { headers: { accept: "text/html" } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const old of document.querySelectorAll(selector)) {
    const replacement = fresh.querySelector(selector);
    if (replacement) old.replaceWith(document.adoptNode(replacement));
  }
}

// Many events arrive together: one redraw for a burst.
function debounced(work, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(work, ms);
  };
}

function follow(project, onEvent) {
  const source = new EventSource(`/api/v1/projects/${encodeURIComponent(project)}/events`);
  const names = [
    "cloned", "build_started", "build_log", "build_succeeded", "build_failed",
    "image_pushed", "deploy_started", "deploy_succeeded", "deploy_failed",
    "rolled_back", "preview_destroyed", "superseded", "skipped", "awaiting_approval",
    "ended", "lagged",
  ];
  for (const name of names) {
    source.addEventListener(name, (message) => {
      let data = {};
      try { data = JSON.parse(message.data); } catch { /* not ours */ }
      onEvent(name, data);
    });
  }
  document.documentElement.dataset.following = project;
}

// A project's page: redraw its environments, numbers and timeline.
const live = document.querySelector("#live[data-live]");
if (live) {
  const later = debounced(() => redraw("#live"), 250);
  follow(live.dataset.live, (name) => {
    if (name !== "build_log") later();
  });
}

// A running deployment's page: append its build log lines, redraw its
// steps, and show the kept log once it ended.
const log = document.querySelector("#log[data-follow]");
if (log) {
  const delivery = log.dataset.follow;
  const seen = new Set([...log.querySelectorAll("[data-id]")].map((line) => line.dataset.id));
  const steps = debounced(() => redraw(".steps"), 250);
  follow(log.dataset.live, (name, event) => {
    if (event.delivery !== delivery) return;
    if (name === "build_log") {
      if (seen.has(event.id)) return;
      seen.add(event.id);
      const line = document.createElement("span");
      line.dataset.id = event.id;
      line.textContent = `${event.line}\n`;
      log.append(line);
      line.scrollIntoView({ block: "nearest" });
    } else if (name === "ended") {
      location.reload();
    } else {
      steps();
    }
  });
}
