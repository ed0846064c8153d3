"use strict";
// The job pages: read the service's HTTP API with the function key the page was opened with.
(function () {
  const TERMINAL = ["succeeded", "partially_succeeded", "failed", "canceled"];
  const STATES = ["pending", "submitting", "submitted", "succeeded", "skipped", "failed",
    "invalid", "deadLettered", "canceled"];
  const FINISHED = ["succeeded", "skipped", "failed", "invalid", "deadLettered", "canceled"];
  const ERRORS = ["failed", "invalid", "deadLettered"];
  const KEY_STORE = "geocatalog-ingest-key";
  const api = location.pathname.split("/ui/")[0];
  const ui = api + "/ui";

  // The key: from ?code= (then out of the address bar and history), else this tab's copy.
  const params = new URLSearchParams(location.search);
  let key = sessionStorage.getItem(KEY_STORE) || "";
  if (params.has("code")) {
    key = params.get("code") || "";
    sessionStorage.setItem(KEY_STORE, key);
    params.delete("code");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function pageUrl(path) {
    // Pages are function-key protected too: the key goes along as ?code= and is removed on load.
    return ui + path + (key ? "?code=" + encodeURIComponent(key) : "");
  }

  async function call(method, path, query) {
    const url = new URL(api + path, location.origin);
    for (const [name, value] of Object.entries(query || {})) {
      if (value) url.searchParams.set(name, value);
    }
    const headers = { Accept: "application/json" };
    if (key) headers["x-functions-key"] = key;
    const response = await fetch(url, { method: method, headers: headers });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const problem = body || {};
      let text = response.status === 401
        ? "401: no valid function key (open the page with ?code=<function key>)"
        : response.status + ": " + (problem.detail || problem.title || response.statusText);
      if (problem.field) text += " (field " + problem.field + ")";
      const error = new Error(text);
      error.status = response.status;
      throw error;
    }
    return { status: response.status, body: body };
  }

  // Redraw a table body only when what it shows changed: no flicker, and a row stays the same
  // element (a link under the pointer keeps working) while nothing changes.
  function redraw(container, data, rows) {
    const key = JSON.stringify(data);
    if (container.dataset.shown === key) return;
    container.dataset.shown = key;
    container.replaceChildren(...rows());
  }

  function say(text, isError) {
    const message = document.getElementById("message");
    message.textContent = text;
    message.className = "message" + (isError ? " error" : "");
  }

  function finished(counts) {
    return FINISHED.reduce((sum, s) => sum + (counts[s] || 0), 0);
  }

  function failedCount(counts) {
    return ERRORS.reduce((sum, s) => sum + (counts[s] || 0), 0);
  }

  function bar(done, total, state, small) {
    const outer = el("div", { class: "bar" + (small ? " small" : "") });
    const fill = el("div", { class: "fill" });
    fill.style.width = (total ? Math.round((100 * done) / total) : 0) + "%";
    outer.append(fill);
    if (TERMINAL.includes(state)) outer.classList.add(state === "succeeded" ? "done" : "bad");
    return outer;
  }

  function when(text) {
    return text ? text.replace("T", " ").replace(/\.\d+/, "").replace("Z", "") : "";
  }

  // ---- the job list ------------------------------------------------------------------------

  function listPage() {
    const form = document.getElementById("filters");
    const body = document.getElementById("jobs-body");
    const more = document.getElementById("more");
    let pages = 1;
    let cursor = null;

    function filters() {
      const since = document.getElementById("filter-since").value;
      return {
        state: document.getElementById("filter-state").value,
        collection: document.getElementById("filter-collection").value.trim(),
        since: since ? since + "T00:00:00Z" : "",
      };
    }

    function row(job) {
      const c = job.counts;
      const link = el("a", { href: pageUrl("/jobs/" + job.jobId), class: "mono", text: job.jobId });
      const progress = el("td", {}, [bar(finished(c), c.total, job.state, true),
        " " + finished(c) + "/" + c.total]);
      return el("tr", { "data-job-id": job.jobId, "data-state": job.state }, [
        el("td", {}, [link]),
        el("td", {}, [el("span", { class: "state " + job.state, text: job.state })]),
        el("td", { text: job.collection }),
        el("td", { text: job.sourceType + (job.dryRun ? " (dry run)" : "") }),
        progress,
        el("td", { class: "n", text: String(c.succeeded) }),
        el("td", { class: "n", text: String(c.skipped) }),
        el("td", { class: "n", text: String(failedCount(c)) }),
        el("td", { text: when(job.createdAt) }),
      ]);
    }

    async function load() {
      const jobs = [];
      let next = null;
      for (let i = 0; i < pages; i++) {
        const page = await call("GET", "/jobs", { ...filters(), limit: "50", cursor: next });
        jobs.push(...page.body.jobs);
        next = page.body.nextCursor;
        if (!next) break;
      }
      redraw(body, jobs, () => jobs.map(row));
      cursor = next;
      more.hidden = !cursor;
      say(jobs.length ? jobs.length + " jobs, newest first" : "No jobs.");
    }

    async function refresh() {
      try { await load(); } catch (error) { say(error.message, true); }
    }

    form.addEventListener("submit", (event) => { event.preventDefault(); pages = 1; refresh(); });
    more.addEventListener("click", () => { if (cursor) { pages += 1; refresh(); } });
    (async function poll() {
      for (;;) {
        await refresh();
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
    })();
  }

  // ---- one job -----------------------------------------------------------------------------

  function jobPage(jobId) {
    const samples = [];
    let polling = false;
    let lastState = null;

    function rate(done) {
      const now = Date.now() / 1000;
      samples.push([now, done]);
      while (samples.length > 2 && now - samples[0][0] > 30) samples.shift();
      const [t0, d0] = samples[0];
      return now > t0 && done > d0 ? (done - d0) / (now - t0) : 0;
    }

    function showJob(job) {
      const c = job.counts;
      const done = finished(c);
      lastState = job.state;
      document.getElementById("job-id").textContent = job.jobId;
      const state = document.getElementById("state");
      state.textContent = job.state + (job.cancelRequested && job.state === "running" ? " (canceling)" : "");
      state.className = "state " + job.state;
      document.getElementById("facts").textContent =
        "into " + job.collection + " · mode " + job.mode + (job.dryRun ? " · dry run" : "") +
        " · created " + when(job.createdAt) +
        (job.completedAt ? " · completed " + when(job.completedAt) : "") +
        " · planning " + (job.planning.done ? "done" : "in progress") +
        " (" + job.planning.pages + " pages)";
      const progress = document.getElementById("progress");
      progress.style.width = (c.total ? Math.round((100 * done) / c.total) : 0) + "%";
      progress.setAttribute("aria-valuemax", String(c.total));
      progress.setAttribute("aria-valuenow", String(done));
      progress.parentElement.className = "bar" +
        (TERMINAL.includes(job.state) ? (job.state === "succeeded" ? " done" : " bad") : "");
      const perSecond = rate(done);
      let text = done + " of " + c.total + " items finished";
      if (!TERMINAL.includes(job.state) && perSecond > 0) {
        const eta = Math.ceil((c.total - done) / perSecond);
        text += " · " + perSecond.toFixed(1) + " items/s · about " + eta + " s left";
      }
      if (!job.planning.done) text += " (more items may still be planned)";
      document.getElementById("progress-text").textContent = text;
      redraw(document.getElementById("counts-body"), c, () => [
        el("tr", {}, STATES.map((s) => el("th", { text: s }))),
        el("tr", {}, STATES.map((s) =>
          el("td", { class: "n", id: "count-" + s, "data-state": s, text: String(c[s] || 0) }))),
      ]);
      document.getElementById("source").textContent = JSON.stringify(job.source, null, 2);
      const containers = job.containers || [];
      document.getElementById("containers-empty").hidden = containers.length > 0;
      document.getElementById("containers").hidden = containers.length === 0;
      redraw(document.getElementById("containers-body"), containers, () => containers.map((x) =>
        el("tr", {}, [el("td", { class: "mono", text: x.containerUrl }),
          el("td", { text: x.ingestionSource })])));
      const planError = document.getElementById("plan-error");
      planError.hidden = !job.planError;
      if (job.planError) {
        planError.textContent = "Planning stopped: " + job.planError.code + ": " + job.planError.message;
      }
      document.getElementById("cancel").disabled = TERMINAL.includes(job.state) || job.cancelRequested;
      document.getElementById("retry").disabled =
        job.state === "canceled" || (c.failed || 0) + (c.deadLettered || 0) === 0;
    }

    function showErrors(errors) {
      const groups = errors.groups;
      document.getElementById("errors-empty").hidden = groups.length > 0;
      document.getElementById("error-groups").hidden = groups.length === 0;
      redraw(document.getElementById("error-groups-body"), groups, () => groups.map((g) =>
        el("tr", { "data-code": g.code }, [
          el("td", { class: "mono", text: g.code }),
          el("td", { class: "n", text: String(g.count) }),
          el("td", { text: Object.entries(g.states).map(([s, n]) => s + " " + n).join(", ") }),
          el("td", { text: g.message }),
          el("td", { class: "mono", text: g.exampleItemIds.join(", ") + (g.count > g.exampleItemIds.length ? ", …" : "") }),
        ])));
    }

    async function refresh() {
      try {
        const job = await call("GET", "/jobs/" + jobId);
        showJob(job.body);
        const errors = await call("GET", "/jobs/" + jobId + "/errors");
        showErrors(errors.body);
        if (TERMINAL.includes(job.body.state) && job.body.completedAt) stop();
      } catch (error) {
        say(error.message, true);
        if (error.status === 404 || error.status === 401) stop();
      }
    }

    // One refresh at a time, a second after the last one ended: a slow answer never has a
    // second request queued behind it.
    async function poll() {
      while (polling) {
        await refresh();
        if (polling) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }

    function start() {
      if (polling) { refresh(); return; }
      polling = true;
      poll();
    }

    function stop() {
      polling = false;
    }

    async function act(action, button) {
      button.disabled = true;
      try {
        const result = await call("POST", "/jobs/" + jobId + "/" + action);
        if (action === "retry") {
          const b = result.body;
          say(result.status === 202
            ? "Retry: " + b.reposted + " items re-posted, " + b.rechecked + " re-checked" +
              (b.planningRedriven ? ", planning redriven" : "")
            : "Retry: nothing to redrive.");
        } else {
          say("Cancel requested: nothing more is posted; operations in flight are canceled.");
        }
        samples.length = 0;
        start();
      } catch (error) {
        say(action + ": " + error.message, true);
        refresh();
      }
    }

    const retry = document.getElementById("retry");
    const cancel = document.getElementById("cancel");
    retry.addEventListener("click", () => act("retry", retry));
    cancel.addEventListener("click", () => act("cancel", cancel));
    start();
    return () => lastState;
  }

  document.getElementById("home").setAttribute("href", pageUrl("/jobs"));
  const page = document.body.dataset.page;
  if (page === "jobs") listPage();
  else jobPage(document.body.dataset.jobId);
})();
