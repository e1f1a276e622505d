// assess web app: autosave of questionnaire answers, charts, report progress. No inline scripts
// anywhere (the Content-Security-Policy forbids them): every behaviour hangs off data-* attributes.
"use strict";

function csrfToken() { return document.querySelector('meta[name="csrf-token"]').content; }
function setCsrf(token) {
  document.querySelector('meta[name="csrf-token"]').content = token;
  document.querySelectorAll('input[name="csrf_token"]').forEach((i) => { i.value = token; });
}

// the respondent's language for the save messages (the consultant's pages are in English)
const MESSAGES = {
  en: { saving: "Saving…", savedAt: "All answers saved at ", saved: "Saved", notSaved: "Not saved: ",
        someNot: "Some answers were not saved: see below", offline: "Offline: answers kept in this browser, retrying…",
        kept: "Not saved yet: kept in this browser",
        waiting: " unsaved answer(s) are kept in this browser and will be sent when you are back." },
  fr: { saving: "Enregistrement…", savedAt: "Toutes les réponses enregistrées à ", saved: "Enregistré",
        notSaved: "Non enregistré : ", someNot: "Certaines réponses n’ont pas été enregistrées : voir ci-dessous",
        offline: "Hors ligne : réponses gardées dans ce navigateur, nouvel essai…",
        kept: "Pas encore enregistré : gardé dans ce navigateur",
        waiting: " réponse(s) non enregistrée(s) gardée(s) dans ce navigateur, envoyée(s) à votre retour." },
};

// ---- questionnaire autosave ------------------------------------------------------------------
// Each change is queued in localStorage first, then sent. It leaves the queue only when the server
// has confirmed it, so an answer survives a closed tab, a network failure, an expired CSRF token
// (a fresh one is fetched and the answer re-sent) and an expired session (kept until sign-in).
function Autosave(form) {
  this.form = form;
  this.url = form.dataset.autosave;
  this.key = "assess:pending:" + form.dataset.scope;
  this.state = form.querySelector("[data-save-state]");
  this.banner = document.querySelector("[data-save-banner]");
  this.sending = false;
  this.timer = null;
  this.t = MESSAGES[form.dataset.lang] || MESSAGES.en;
}
Autosave.prototype.pending = function () {
  try { return JSON.parse(localStorage.getItem(this.key) || "{}"); } catch (e) { return {}; }
};
Autosave.prototype.store = function (p) {
  if (Object.keys(p).length) localStorage.setItem(this.key, JSON.stringify(p));
  else localStorage.removeItem(this.key);
};
Autosave.prototype.read = function (fs) {
  const qid = fs.dataset.qid, type = fs.dataset.type;
  let value = null;
  if (type === "multiple") {
    value = Array.from(fs.querySelectorAll('input[name="q:' + qid + '"]:checked')).map((i) => i.value);
  } else if (type === "single" || type === "scale") {
    const c = fs.querySelector('input[name="q:' + qid + '"]:checked');
    // "don't know" and "not applicable" are words, the scale's points numbers
    value = c ? (type === "scale" && /^[0-9]+$/.test(c.value) ? Number(c.value) : c.value) : null;
  } else {
    const el = fs.querySelector('input:not([type="radio"])[name="q:' + qid + '"], textarea[name="q:' + qid + '"]');
    const c = fs.querySelector('input[type="radio"][name="q:' + qid + '"]:checked');
    value = el.value.trim() !== "" ? (type === "text" ? el.value : el.value.replace(",", "."))
      : (c ? c.value : null);
  }
  const noteEl = fs.querySelector('[name="note:' + qid + '"]');
  return { question: qid, value: value, note: noteEl ? noteEl.value : null };
};
Autosave.prototype.write = function (fs, item) {
  const qid = fs.dataset.qid;
  fs.querySelectorAll('[name="q:' + qid + '"]').forEach((el) => {
    if (el.type === "radio") el.checked = item.value !== null && String(el.value) === String(item.value);
    else if (el.type === "checkbox") el.checked = Array.isArray(item.value) && item.value.indexOf(el.value) >= 0;
    else el.value = item.value === null || item.value === undefined ? "" : item.value;
  });
  const noteEl = fs.querySelector('[name="note:' + qid + '"]');
  if (noteEl && item.note !== undefined) noteEl.value = item.note || "";
};
Autosave.prototype.queue = function (fs, delay) {
  const p = this.pending();
  p[fs.dataset.qid] = this.read(fs);
  this.store(p);
  this.say(this.t.saving, false);
  clearTimeout(this.timer);
  this.timer = setTimeout(() => this.flush(), delay || 0);
  applyConditions(this.form);
};
Autosave.prototype.say = function (text, error) {
  if (!this.state) return;
  this.state.textContent = text;
  this.state.classList.toggle("error", !!error);
};
Autosave.prototype.flush = async function (keepalive) {
  if (this.sending) { this.again = true; return; }
  const p = this.pending();
  const items = Object.values(p);
  if (!items.length) return;
  this.sending = true;
  try {
    let resp = await this.post(items, keepalive);
    if (resp.status === 400) {
      const body = await resp.clone().json().catch(() => ({}));
      if (body.error === "csrf") {           // the page outlived its token: get a new one, retry
        const t = await fetch("/csrf-token", { credentials: "same-origin" });
        if (t.ok) { setCsrf((await t.json()).token); resp = await this.post(items, keepalive); }
      }
    }
    if (resp.status === 401 || resp.status === 403) {
      const body = await resp.json().catch(() => ({}));
      this.showBanner((body.message || "") + " " + items.length + this.t.waiting);
      this.say(this.t.kept, true);
      return;
    }
    const body = await resp.json();
    const now = this.pending();
    (body.saved || []).forEach((qid) => {
      // keep an answer changed again while this one was in flight
      if (JSON.stringify(now[qid]) === JSON.stringify(p[qid])) delete now[qid];
      const fs = document.getElementById("q-" + qid);
      if (fs) { fs.classList.remove("has-error"); fs.querySelector(".saved-state").textContent = this.t.saved; }
    });
    Object.entries(body.errors || {}).forEach(([qid, msg]) => {
      delete now[qid];  // the server refused it: show why instead of retrying forever
      const fs = document.getElementById("q-" + qid);
      if (fs) { fs.classList.add("has-error"); fs.querySelector(".saved-state").textContent = this.t.notSaved + msg; }
    });
    this.store(now);
    if (body.progress) updateProgress(body.progress);
    this.hideBanner();
    this.say(Object.keys(body.errors || {}).length ? this.t.someNot :
      this.t.savedAt + clockTime(this.form.dataset.lang),
      Object.keys(body.errors || {}).length > 0);
  } catch (e) {
    this.say(this.t.offline, true);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 5000);
  } finally {
    this.sending = false;
    if (this.again) { this.again = false; this.flush(); }
  }
};
Autosave.prototype.post = function (items, keepalive) {
  return fetch(this.url, {
    method: "POST", credentials: "same-origin", keepalive: !!keepalive,
    headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ answers: items }),
  });
};
Autosave.prototype.showBanner = function (text) { if (this.banner) { this.banner.textContent = text; this.banner.hidden = false; } };
Autosave.prototype.hideBanner = function () { if (this.banner) this.banner.hidden = true; };
// another tab (or another person) may have answered: refresh the fields this tab has not touched
Autosave.prototype.refresh = async function () {
  try {
    const resp = await fetch(this.url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
    if (!resp.ok) return;
    const body = await resp.json();
    const p = this.pending();
    this.form.querySelectorAll("fieldset[data-qid]").forEach((fs) => {
      const qid = fs.dataset.qid;
      if (p[qid] || fs.contains(document.activeElement)) return;
      const a = body.answers[qid] || { value: null, note: null };
      this.write(fs, a);
    });
    applyConditions(this.form);
    updateProgress(body.progress);
  } catch (e) { /* offline: keep what is shown */ }
};
Autosave.prototype.start = function () {
  const p = this.pending();
  // answers typed before a closed tab or a lost session: put them back on the page and send them
  Object.values(p).forEach((item) => {
    const fs = document.getElementById("q-" + item.question);
    if (fs) this.write(fs, item);
  });
  this.form.addEventListener("change", (ev) => {
    const fs = ev.target.closest("fieldset[data-qid]");
    // "don't know" beside a number: ticking it clears the number
    const num = fs && ev.target.type === "radio" ? fs.querySelector('input[type="number"]') : null;
    if (num) num.value = "";
    if (fs) this.queue(fs, 0);
  });
  this.form.addEventListener("input", (ev) => {
    if (ev.target.tagName !== "TEXTAREA" && ev.target.type !== "number") return;
    const fs = ev.target.closest("fieldset[data-qid]");
    if (fs && ev.target.type === "number") fs.querySelectorAll('input[type="radio"]').forEach((r) => { r.checked = false; });
    if (fs) this.queue(fs, 800);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") { this.flush(); this.refresh(); }
    else this.flush(true);
  });
  window.addEventListener("pagehide", () => this.flush(true));
  window.addEventListener("online", () => this.flush());
  if (Object.keys(p).length) this.flush();
  applyConditions(this.form);
};

// a time of day in the page's language: 24-hour in French ("14:05"), "2:05 PM" in English
function clockTime(lang) {
  const fr = lang === "fr";
  return new Date().toLocaleTimeString(fr ? "fr-FR" : "en-US",
    { hour: "2-digit", minute: "2-digit", hour12: !fr });
}

function updateProgress(p) {
  const bar = document.querySelector("[data-progress-bar]");
  const text = document.querySelector("[data-progress-text]");
  if (bar) { bar.max = p.total || 1; bar.value = p.answered; }
  if (text) text.textContent = p.answered + " / " + p.total;
  // this section's chip: the questions shown on the page that have an answer
  const chip = document.querySelector(".sections a.current small");
  const form = document.querySelector("form[data-autosave]");
  if (chip && form) {
    const shown = Array.from(form.querySelectorAll("fieldset[data-qid]:not(.hidden)"));
    const done = shown.filter((fs) => Array.from(fs.querySelectorAll('[name^="q:"]')).some(
      (el) => (el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== ""));
    chip.textContent = done.length + "/" + shown.length;
  }
}

// show a question only when the answer it depends on is one of the listed values
function applyConditions(form) {
  form.querySelectorAll("fieldset[data-when]").forEach((fs) => {
    const dep = document.getElementById("q-" + fs.dataset.when);
    const wanted = fs.dataset.whenIn.split("|");
    let show = true;
    if (dep) {
      const picked = Array.from(dep.querySelectorAll("input:checked")).map((i) => i.value);
      show = picked.some((v) => wanted.indexOf(v) >= 0);
    }
    fs.classList.toggle("hidden", !show);
  });
}

// ---- charts (plotly.js served by the app) -----------------------------------------------------
function drawCharts() {
  if (!window.Plotly) return;
  document.querySelectorAll("[data-chart]").forEach((div) => {
    const data = JSON.parse(document.getElementById(div.dataset.chart).textContent);
    const layout = Object.assign({}, data.layout, { autosize: true, height: 320 });
    delete layout.width;
    window.Plotly.newPlot(div, data.data, layout, { displaylogo: false, displayModeBar: false, responsive: true });
  });
}

// ---- report jobs: poll until done ---------------------------------------------------------------
function pollReports() {
  const rows = document.querySelectorAll('tr[data-job][data-status="queued"], tr[data-job][data-status="running"]');
  if (!rows.length) return;
  setTimeout(async () => {
    for (const tr of rows) {
      try {
        const r = await fetch(tr.dataset.job, { credentials: "same-origin", headers: { Accept: "application/json" } });
        const j = await r.json();
        if (j.status !== tr.dataset.status && !(j.status === "running" && tr.dataset.status === "queued")) {
          window.location.reload(); return;
        }
        tr.dataset.status = j.status;
        const prog = tr.querySelector("progress"); if (prog) prog.value = j.progress;
        const stage = tr.querySelector("[data-stage]"); if (stage) stage.textContent = j.stage;
      } catch (e) { /* try again next tick */ }
    }
    pollReports();
  }, 1000);
}

// ---- inline saves (the plan): a form with data-inline is sent in the background, the row stays
// where it is and says "Saved" or why not; a button outside INLINE_OPS (drop, unpin) still posts.
const INLINE_OPS = ["edit", "status", ""];
async function sendInline(form, submitter) {
  const state = form.querySelector("[data-inline-state]");
  const data = new FormData(form);
  if (submitter && submitter.name) data.set(submitter.name, submitter.value);
  if (state) { state.textContent = "Saving…"; state.classList.remove("error"); }
  const post = () => fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() } });
  try {
    let resp = await post();
    if (resp.status === 400) {
      const body = await resp.clone().json().catch(() => ({}));
      if (body.error === "csrf") {
        const t = await fetch("/csrf-token", { credentials: "same-origin" });
        if (t.ok) { setCsrf((await t.json()).token); data.set("csrf_token", csrfToken()); resp = await post(); }
      }
    }
    const body = await resp.json().catch(() => ({ ok: false, message: "Not saved: the server answered " + resp.status }));
    if (state) { state.textContent = body.ok ? "Saved" : body.message; state.classList.toggle("error", !body.ok); }
    if (!body.ok) return;
    const row = form.closest("tr");
    if (!row) return;
    const flags = row.querySelector("[data-due-flags]");
    if (flags) flags.textContent = (body.flags || []).map((f) => "⚠ " + f).join("; ");
    row.classList.toggle("flagged", !!(body.flags || []).length);
    const due = form.querySelector('input[name="due"]');
    if (due) {
      row.querySelectorAll('input[name="due_was"]').forEach((i) => { i.value = due.value; });
      const cell = row.querySelector("[data-due]"); if (cell) cell.textContent = due.value;
    }
    const owner = form.querySelector('input[name="owner"]');
    if (owner) { const cell = row.querySelector("[data-owner]"); if (cell) cell.textContent = owner.value || owner.placeholder; }
    const title = form.querySelector('input[name="title"]');
    if (title) row.querySelectorAll('input[name="title_was"]').forEach((i) => { i.value = title.value; });
    const status = form.querySelector('select[name="status"]');
    if (status) {
      const cell = row.querySelector("[data-status]"); if (cell) cell.textContent = status.value;
      row.querySelectorAll('input[name="status_was"]').forEach((i) => { i.value = status.value; });
      row.className = row.className.replace(/status-[a-z-]+/, "status-" + status.value.replace(" ", "-"));
    }
  } catch (e) {
    if (state) { state.textContent = "Not saved: the server cannot be reached. Try again."; state.classList.add("error"); }
  }
}
function inlineForms() {
  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest("form[data-inline]");
    if (!form || ev.defaultPrevented) return;
    const sub = ev.submitter;
    if (sub && sub.name === "op" && INLINE_OPS.indexOf(sub.value) < 0) return;  // drop, unpin: a page
    ev.preventDefault();
    sendInline(form, sub);
  });
  document.querySelectorAll("form[data-autosubmit] select").forEach((sel) => {
    sel.addEventListener("change", () => sendInline(sel.form, null));
  });
}

// ---- confirmations: a form with data-confirm asks before it is sent ---------------------------
function confirmForms() {
  document.addEventListener("submit", (ev) => {
    const f = ev.target.closest("form[data-confirm]");
    if (f && !window.confirm(f.dataset.confirm)) ev.preventDefault();
  }, true);
}

// ---- the column mapper: the sample values of the column chosen --------------------------------
function columnSamples() {
  const data = document.getElementById("column-samples");
  if (!data) return;
  const samples = JSON.parse(data.textContent);
  document.querySelectorAll("select[data-samples]").forEach((sel) => {
    sel.addEventListener("change", () => {
      const cell = document.getElementById(sel.dataset.samples);
      if (cell) cell.textContent = (samples[sel.value] || []).join(" · ");
    });
  });
}

// ---- copy buttons -------------------------------------------------------------------------------
function copyButtons() {
  document.querySelectorAll("button[data-copy-from]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const input = document.getElementById(btn.dataset.copyFrom);
      let ok = false;
      try { await navigator.clipboard.writeText(input.value); ok = true; } catch (e) {
        input.select(); try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
      }
      const label = btn.dataset.label || btn.textContent;
      btn.dataset.label = label;
      btn.textContent = ok ? "Copied" : "Select and copy it";
      setTimeout(() => { btn.textContent = label; }, 2000);
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  confirmForms();
  inlineForms();
  columnSamples();
  copyButtons();
  document.querySelectorAll("form[data-autosave]").forEach((f) => new Autosave(f).start());
  document.querySelectorAll("[data-copy]").forEach((i) => i.addEventListener("focus", () => i.select()));
  drawCharts();
  pollReports();
});
