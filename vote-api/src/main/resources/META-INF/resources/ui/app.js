// The voting page: polls, a new poll, voting, live results and the locks behind them, one screen
// each. Results and locks are pushed by vote-api as server-sent events; nothing here polls.

const view = document.getElementById("view");
const VOTER_KEY = "fenced.voter";
let closeScreen = () => {};

// --- small helpers ------------------------------------------------------------------------------

/** An element with attributes and children; text is always set as text, never as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const enc = encodeURIComponent;
const dash = "—";
const num = (n) => (n === null || n === undefined ? dash : Number(n).toLocaleString("en"));
const ms = (n) => (n === null || n === undefined ? dash : n < 10 ? `${n.toFixed(2)} ms` : `${Math.round(n)} ms`);

function voter() {
  let id = localStorage.getItem(VOTER_KEY);
  if (!id) {
    id = newVoterId();
    localStorage.setItem(VOTER_KEY, id);
  }
  return id;
}

function newVoterId() {
  // getRandomValues works on plain http too (randomUUID needs a secure context).
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return "v-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Calls the API; resolves to {ok, status, body, retryAfter}, also for errors. */
async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...options,
      headers: { Accept: "application/json", ...(options.body ? { "Content-Type": "application/json" } : {}) },
    });
  } catch (e) {
    return { ok: false, status: 0, body: null };
  }
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  return { ok: response.ok, status: response.status, body, retryAfter: response.headers.get("Retry-After") };
}

/** The API's error answer in words: the status, its title and the detail it gave. */
function problemText(answer) {
  if (answer.status === 0) return "The service could not be reached. Check the connection and try again.";
  const p = answer.body || {};
  const head = `${answer.status}${p.title ? " " + p.title : ""}`;
  const detail = p.detail ? `: ${p.detail}` : "";
  if (answer.status === 503) {
    const wait = answer.retryAfter ? ` Try again in ${answer.retryAfter} s.` : " Try again shortly.";
    return `${head}${detail}. Nothing was recorded.${wait}`;
  }
  if (answer.status === 409) return `${head}${detail}.`;
  return `${head}${detail}`;
}

function message(el, kind, text) {
  el.replaceChildren();
  el.className = `message ${kind}`;
  if (text) el.append(text);
}

/** Starts a screen: a heading that takes the focus, so screen readers announce the change. */
function screen(title, ...content) {
  document.title = `${title} · fenced voting`;
  const heading = h("h1", { tabindex: "-1" }, title);
  view.replaceChildren(heading, ...content);
  heading.focus();
  return heading;
}

/** Puts the poll's question into the screen's heading once it is known. */
function titleFrom(id, heading, screenName) {
  api(`api/polls/${enc(id)}`).then((a) => {
    if (a.ok) {
      heading.textContent = `${screenName}: ${a.body.title}`;
      document.title = `${heading.textContent} · fenced voting`;
    }
  });
}

function pollTabs(poll, current) {
  const tab = (label, hash, key) =>
    h("a", { href: hash, "aria-current": current === key ? "page" : null }, label);
  return h(
    "nav",
    { class: "tabs", "aria-label": "Poll" },
    tab("Vote", `#/polls/${enc(poll)}`, "vote"),
    tab("Results", `#/polls/${enc(poll)}/results`, "results"),
    tab("Locks", `#/polls/${enc(poll)}/locks`, "locks"),
  );
}

/**
 * Opens a server-sent event stream and shows its state; returns a function that closes it. The
 * browser reconnects by itself after a dropped connection (a replica gone, a proxy timeout).
 */
function live(path, state, onData, onGone) {
  const source = new EventSource(path);
  const show = (text, kind) => {
    state.textContent = text;
    state.dataset.state = kind;
  };
  show("connecting…", "connecting");
  source.onopen = () => show("live", "live");
  source.onmessage = (e) => {
    show("live", "live");
    onData(JSON.parse(e.data));
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      show("stopped", "stopped");
      onGone();
    } else {
      show("reconnecting…", "reconnecting");
    }
  };
  return () => source.close();
}

// --- screens ------------------------------------------------------------------------------------

async function pollsScreen() {
  const list = h("ul", { class: "polls", id: "polls", "aria-busy": "true" });
  const status = h("p", { role: "status" });
  screen("Polls", h("p", {}, h("a", { class: "button", href: "#/new" }, "New poll")), status, list);
  const answer = await api("api/polls");
  list.removeAttribute("aria-busy");
  if (!answer.ok) {
    message(status, "error", problemText(answer));
    return;
  }
  if (answer.body.length === 0) {
    message(status, "info", "No polls yet. Create the first one.");
    return;
  }
  for (const p of answer.body) {
    list.append(
      h(
        "li",
        {},
        h("a", { href: `#/polls/${enc(p.id)}` }, p.title),
        h("span", { class: "meta" }, `${p.id} · ${p.options.join(" / ")}`),
      ),
    );
  }
}

function newPollScreen() {
  const field = (name, label, hint, control) => {
    const errorId = `${name}-error`;
    control.id = name;
    control.name = name;
    control.setAttribute("aria-describedby", `${name}-hint ${errorId}`);
    return h(
      "div",
      { class: "field" },
      h("label", { for: name }, label),
      control,
      h("p", { class: "hint", id: `${name}-hint` }, hint),
      h("p", { class: "field-error", id: errorId }),
    );
  };
  const error = h("div", { id: "form-error", role: "alert" });
  const form = h(
    "form",
    { class: "new-poll", novalidate: true },
    field("id", "Id", "Letters, digits and dashes work best; it becomes part of the address.", h("input", { required: true, autocomplete: "off", placeholder: "cats-vs-dogs" })),
    field("title", "Question", "What people see above the options.", h("input", { required: true, placeholder: "Cats or dogs?" })),
    field("options", "Options", "One per line, 1 to 64 of them.", h("textarea", { rows: "4", required: true, placeholder: "cat\ndog" })),
    h("button", { type: "submit" }, "Create poll"),
    error,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
    message(error, "", "");
    const body = {
      id: form.elements.id.value.trim(),
      title: form.elements.title.value.trim(),
      options: form.elements.options.value.split("\n").map((s) => s.trim()).filter((s) => s),
    };
    const button = form.querySelector("button");
    button.disabled = true;
    const answer = await api("api/polls", { method: "POST", body: JSON.stringify(body) });
    button.disabled = false;
    if (answer.ok) {
      location.hash = `#/polls/${enc(answer.body.id)}`;
      return;
    }
    message(error, "error", problemText(answer));
    const field = answer.body && answer.body.field ? answer.body.field.replace(/\[.*$/, "") : null;
    const control = field && form.elements[field];
    if (control) {
      control.setAttribute("aria-invalid", "true");
      document.getElementById(`${field}-error`).textContent = answer.body.detail;
      control.focus();
    }
  });
  screen("New poll", form);
}

async function voteScreen(id) {
  const status = h("div", { id: "vote-status", role: "status", "aria-live": "polite" });
  const alert = h("div", { id: "vote-error", role: "alert" });
  const who = h("code", { id: "voter" }, voter());
  const options = h("div", { class: "options", role: "group", "aria-labelledby": "options-label" });
  const heading = screen("Vote");
  heading.after(
    pollTabs(id, "vote"),
    h("p", { id: "options-label", class: "question" }, "…"),
    options,
    status,
    alert,
    h(
      "p",
      { class: "voter" },
      "You vote as ",
      who,
      " (kept in this browser). ",
      h("button", {
        type: "button",
        class: "link",
        onclick: () => {
          localStorage.setItem(VOTER_KEY, newVoterId());
          who.textContent = voter();
          message(status, "info", `You now vote as ${voter()}.`);
          message(alert, "", "");
        },
      }, "Vote as someone new"),
    ),
  );
  const answer = await api(`api/polls/${enc(id)}`);
  if (!answer.ok) {
    message(alert, "error", problemText(answer));
    return;
  }
  const poll = answer.body;
  heading.textContent = poll.title;
  document.title = `${poll.title} · fenced voting`;
  document.getElementById("options-label").textContent = "Choose one:";
  for (const option of poll.options) {
    options.append(
      h("button", {
        type: "button",
        class: "option",
        "data-option": option,
        onclick: async (e) => {
          const buttons = options.querySelectorAll("button");
          buttons.forEach((b) => (b.disabled = true));
          message(status, "info", `Sending your vote for ${option}…`);
          message(alert, "", "");
          const result = await api(`api/polls/${enc(id)}/votes`, {
            method: "POST",
            body: JSON.stringify({ voter: voter(), option }),
          });
          buttons.forEach((b) => (b.disabled = false));
          if (result.ok) {
            const v = result.body;
            message(status, "ok", "");
            status.append(
              `Counted: ${v.option} now has ${num(v.count)} vote${v.count === 1 ? "" : "s"} (fencing token ${v.fence}). `,
              h("a", { href: `#/polls/${enc(id)}/results` }, "See the live results"),
            );
          } else {
            message(status, "", "");
            message(alert, result.status === 503 ? "warn" : "error", problemText(result));
          }
          e.target.focus();
        },
      }, option),
    );
  }
}

function resultsScreen(id) {
  const state = h("span", { class: "live-state", id: "results-state" });
  const rows = h("div", { class: "results", id: "results" });
  const totals = h("dl", { class: "totals", id: "totals" });
  const announce = h("p", { class: "visually-hidden", "aria-live": "polite", id: "results-announce" });
  const alert = h("div", { role: "alert", id: "results-error" });
  const heading = screen("Results");
  heading.after(
    pollTabs(id, "results"),
    h("p", { class: "legend" }, state, " Counts are the lock-protected live counters; the tally is what tally-worker has folded from the ballots."),
    rows,
    totals,
    announce,
    alert,
  );
  titleFrom(id, heading, "Results");
  let last = "";
  closeScreen = live(
    `api/polls/${enc(id)}/results/stream`,
    state,
    (r) => {
      const max = Math.max(1, ...Object.values(r.counts), ...Object.values(r.tally));
      rows.replaceChildren(
        ...Object.keys(r.counts).map((option) =>
          h(
            "div",
            { class: "row", "data-option": option },
            h("span", { class: "name" }, option),
            h("span", { class: "bar", "aria-hidden": "true" }, h("span", { style: `width:${(100 * r.counts[option]) / max}%` })),
            h("span", { class: "count", "data-count": option }, num(r.counts[option])),
            h("span", { class: "tally", "data-tally": option }, `tally ${num(r.tally[option])}`),
          ),
        ),
      );
      const sum = Object.values(r.counts).reduce((a, b) => a + b, 0);
      totals.replaceChildren(
        h("div", {}, h("dt", {}, "Ballots"), h("dd", { id: "ballots" }, num(r.ballots))),
        h("div", {}, h("dt", {}, "Counted"), h("dd", { id: "counted" }, num(sum))),
        h("div", {}, h("dt", {}, "Tallied"), h("dd", { id: "tallied" }, num(r.tallied))),
      );
      const words = Object.entries(r.counts).map(([o, n]) => `${o} ${n}`).join(", ");
      if (words !== last) {
        announce.textContent = `Counts: ${words}.`;
        last = words;
      }
    },
    () => message(alert, "error", `The results of poll ${id} cannot be followed: the poll does not exist, or the service refused the stream.`),
  );
}

function locksScreen(id) {
  const state = h("span", { class: "live-state", id: "locks-state" });
  const replica = h("strong", { id: "replica" }, dash);
  const body = h("div", { id: "locks" });
  const announce = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const alert = h("div", { role: "alert", id: "locks-error" });
  const heading = screen("Locks");
  heading.after(
    pollTabs(id, "locks"),
    h("p", { class: "legend" }, state, " Answered by replica ", replica, "; metrics are that replica's own since it started."),
    body,
    announce,
    alert,
  );
  titleFrom(id, heading, "Locks");
  let lastPolicies = "";
  closeScreen = live(
    `api/polls/${enc(id)}/locks/stream`,
    state,
    (v) => {
      replica.textContent = v.replica;
      body.replaceChildren(locksTable(v), ...v.policies.map(policyCard), votesCard(v.votes), problemsCard(v.problems));
      const summary = v.policies.map((p) => `${p.ref} on ${p.backend}, epoch ${p.epoch}`).join("; ");
      if (summary !== lastPolicies) {
        announce.textContent = `Policy: ${summary || "none"}.`;
        lastPolicies = summary;
      }
    },
    () => message(alert, "error", `The locks of poll ${id} cannot be followed: the poll does not exist, or the service refused the stream.`),
  );
}

function locksTable(v) {
  return h(
    "section",
    { "aria-labelledby": "locks-h" },
    h("h2", { id: "locks-h" }, "Lock per option"),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Option"), h("th", { scope: "col" }, "Lock name"), h("th", { scope: "col" }, "Policy"), h("th", { scope: "col" }, "Latest fencing token"))),
        h(
          "tbody",
          {},
          v.locks.map((l) =>
            h(
              "tr",
              { "data-option": l.option },
              h("th", { scope: "row" }, l.option),
              h("td", { "data-label": "Lock name" }, h("code", {}, l.lock)),
              h("td", { "data-label": "Policy" }, l.policy || "none governs it"),
              h("td", { class: "fence", "data-fence": l.option, "data-label": "Latest fencing token" }, l.fence === 0 ? "0 (not written yet)" : `${l.fence} = epoch ${l.fenceEpoch} · #${l.fenceCounter}`),
            ),
          ),
        ),
      ),
    ),
  );
}

function policyCard(p) {
  const m = p.metrics;
  const latency = (l) => (l ? `${ms(l.p50Ms)} / ${ms(l.p99Ms)} (${num(l.count)})` : dash);
  const perHold = m.votesPerHold
    ? `${m.votesPerHold.mean.toFixed(2)} mean${m.votesPerHold.p99 != null ? `, p99 ${m.votesPerHold.p99.toFixed(1)}` : ""} (${num(m.votesPerHold.holds)} holds)`
    : dash;
  const row = (label, value, key) => h("div", {}, h("dt", {}, label), h("dd", { "data-metric": key }, value));
  const ready = p.ready === "True" ? "ready" : "not-ready";
  return h(
    "section",
    { class: "card policy", "data-policy": p.ref, "aria-label": `Policy ${p.ref}` },
    h("h2", {}, "Policy ", h("code", {}, p.ref)),
    h(
      "dl",
      { class: "facts" },
      row("Backend", h("strong", { id: "backend" }, p.backend), "backend"),
      row("Epoch", h("strong", { id: "epoch" }, String(p.epoch)), "epoch"),
      row("Ready", [h("span", { class: `badge ${ready}` }, p.ready || "Unknown"), p.readyReason ? h("span", { class: "meta", title: p.readyMessage || "" }, ` ${p.readyReason}`) : null], "ready"),
      row("Lock names", p.lockNames.join(", "), "lockNames"),
      row("Max wait · lease", `${p.maxWait} · ${p.leaseDuration}`, "timing"),
      row("Fencing", p.fencing, "fencing"),
    ),
    h("h3", {}, "This replica's numbers for ", p.backend),
    h(
      "dl",
      { class: "facts" },
      row("Lock wait p50 / p99 (acquires)", latency(m.waitAcquired), "wait"),
      row("Acquires that gave up", num(m.failedAcquires), "failed"),
      row("Hold p50 / p99 (holds)", latency(m.hold), "hold"),
      row("Votes per hold", perHold, "votesPerHold"),
      row("Fence rejections", num(m.fenceRejections), "fenceRejections"),
    ),
  );
}

function votesCard(votes) {
  const entries = Object.entries(votes);
  return h(
    "section",
    { class: "card", "aria-labelledby": "votes-h" },
    h("h2", { id: "votes-h" }, "Vote requests on this replica"),
    entries.length === 0
      ? h("p", {}, dash)
      : h("dl", { class: "facts" }, entries.map(([o, n]) => h("div", {}, h("dt", {}, o.replaceAll("_", " ")), h("dd", { "data-outcome": o }, num(n))))),
  );
}

function problemsCard(problems) {
  if (!problems.length) return "";
  return h(
    "section",
    { class: "card problems", "aria-labelledby": "problems-h" },
    h("h2", { id: "problems-h" }, "Policy problems"),
    h("ul", {}, problems.map((p) => h("li", {}, p))),
  );
}

// --- routing ------------------------------------------------------------------------------------

function route() {
  closeScreen();
  closeScreen = () => {};
  const hash = location.hash.replace(/^#/, "") || "/";
  const parts = hash.split("/").filter((s) => s).map(decodeURIComponent);
  for (const a of document.querySelectorAll(".top nav a")) {
    if (a.getAttribute("href") === `#${hash}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (parts.length === 0) return pollsScreen();
  if (parts[0] === "new" && parts.length === 1) return newPollScreen();
  if (parts[0] === "polls" && parts.length === 2) return voteScreen(parts[1]);
  if (parts[0] === "polls" && parts[2] === "results") return resultsScreen(parts[1]);
  if (parts[0] === "polls" && parts[2] === "locks") return locksScreen(parts[1]);
  screen("Not found", h("p", {}, "There is no such page. ", h("a", { href: "#/" }, "See the polls.")));
}

window.addEventListener("hashchange", route);
route();
