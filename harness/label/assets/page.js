"use strict";
// The labelling page: one transcript at a time, no scorer verdict anywhere. Every label is
// sent the moment it is given; the server appends it to the label set.
const META = JSON.parse(document.getElementById("meta").textContent);
const ITEMS = [...META.rules, "final_score"];
const $ = (id) => document.getElementById(id);
let view = null;
let current = 0;
let pendingFail = null; // a rule set to fail whose turns are not clicked yet

function say(text) { $("message").textContent = text || ""; }
function clock(s) { const m = Math.floor(s / 60); return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`; }
function given(item) { return view.given.includes(item); }
function ruleOf() { return ITEMS[current]; }

async function load(position) {
  const r = await fetch(`/api/item?position=${position}`);
  const data = await r.json();
  if (data.finished) {
    view = null;
    $("turns").replaceChildren(document.createTextNode(`All ${data.total} transcripts are labelled.`));
    $("progress").textContent = `${data.done} of ${data.total} transcripts labelled`;
    document.body.dataset.ready = "finished";
    return;
  }
  view = data;
  pendingFail = null;
  const first = ITEMS.findIndex((i) => !given(i));
  current = first < 0 ? 0 : first;
  say("");
  render();
  document.body.dataset.ready = view.interview_id;
}

function render() {
  $("who").textContent = `${META.set} · ${META.labeller}`;
  $("bar").max = view.total;
  $("bar").value = view.done;
  $("progress").textContent = `${view.done} of ${view.total} labelled · transcript ${view.position + 1}`;
  $("next").disabled = !view.complete;
  renderTurns();
  renderRules();
}

function pickedTurns() {
  const item = ruleOf();
  if (pendingFail === item) return [];
  const r = view.labels.rules[item];
  return r && r.verdict === "fail" ? r.turns : [];
}

function renderTurns() {
  const box = $("turns");
  box.replaceChildren();
  const picked = pickedTurns();
  for (const t of view.turns) {
    const div = document.createElement("div");
    div.className = `turn ${t.role}` + (picked.includes(t.index) ? " picked" : "");
    div.dataset.index = t.index;
    const head = document.createElement("span");
    head.className = "head";
    head.textContent = `#${t.index} · ${t.role} · ${clock(t.elapsed_s)}`;
    for (const a of t.annotations) {
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = a;
      head.appendChild(tag);
    }
    div.appendChild(head);
    div.appendChild(document.createTextNode(t.text));
    if (t.role === "interviewer") div.addEventListener("click", () => clickTurn(t.index));
    box.appendChild(div);
  }
}

function renderRules() {
  const box = $("rules");
  box.replaceChildren();
  for (const rule of META.rules) {
    const row = document.createElement("div");
    row.className = "rule";
    row.id = `rule-${rule}`;
    row.dataset.item = rule;
    const state = document.createElement("span");
    state.className = "state";
    state.textContent = given(rule) ? "✓" : "";
    const name = document.createElement("span");
    name.className = "name";
    const r = view.labels.rules[rule];
    name.textContent = rule + (r && r.verdict === "fail" ? ` @${r.turns.join(",")}` : "");
    name.addEventListener("click", () => { current = ITEMS.indexOf(rule); render(); });
    row.append(state, name);
    for (const [verdict, key] of [["pass", "p"], ["fail", "f"], ["n/a", "n"]]) {
      const b = document.createElement("button");
      b.textContent = verdict;
      b.dataset.verdict = verdict;
      b.title = `${verdict} (${key})`;
      if ((r && r.verdict === verdict && pendingFail !== rule) || (pendingFail === rule && verdict === "fail")) b.classList.add("on");
      b.addEventListener("click", () => { current = ITEMS.indexOf(rule); setVerdict(verdict); });
      row.appendChild(b);
    }
    box.appendChild(row);
  }
  $("state-final_score").textContent = given("final_score") ? "✓" : "";
  if (given("final_score") && document.activeElement !== $("score")) {
    $("score").value = view.labels.final_score === null ? "" : view.labels.final_score;
    $("score").placeholder = view.labels.final_score === null ? "none" : "";
  }
  for (const el of document.querySelectorAll(".rule")) el.classList.toggle("current", el.dataset.item === ruleOf());
  const help = META.help[ruleOf()];
  $("help").textContent = help ? `passes: ${help.passes}\nfails: ${help.fails}\nn/a: ${help.na}` : "";
  $("help").style.whiteSpace = "pre-wrap";
}

async function send(label) {
  const r = await fetch("/api/label", {
    method: "POST",
    headers: { "content-type": "application/json", "x-label-token": META.token },
    body: JSON.stringify({ interview_id: view.interview_id, ...label }),
  });
  const out = await r.json();
  if (!r.ok) { say(out.error); return false; }
  view.given = out.given;
  view.complete = out.complete;
  view.done = out.done;
  say(out.complete ? "This transcript is fully labelled: ] for the next." : "");
  return true;
}

function advance() {
  const next = ITEMS.findIndex((i, k) => k > current && !given(i));
  const any = ITEMS.findIndex((i) => !given(i));
  current = next >= 0 ? next : any >= 0 ? any : current;
}

async function setVerdict(verdict) {
  const item = ruleOf();
  if (item === "final_score") return;
  if (verdict === "fail") {
    const r = view.labels.rules[item];
    if (!(r && r.verdict === "fail")) {
      pendingFail = item;
      say("Click the interviewer turn(s) at fault.");
      render();
    }
    return;
  }
  pendingFail = null;
  if (await send({ item, verdict })) {
    view.labels.rules[item] = { verdict, turns: [], evidence: [] };
    advance();
  }
  render();
}

async function clickTurn(index) {
  const item = ruleOf();
  if (item === "final_score") { say("Pick a rule first (j/k)."); return; }
  const r = view.labels.rules[item];
  let turns = pendingFail === item || !(r && r.verdict === "fail") ? [] : [...r.turns];
  turns = turns.includes(index) ? turns.filter((i) => i !== index) : [...turns, index].sort((a, b) => a - b);
  if (!turns.length) { say("A fail needs at least one turn; press p or n to change the verdict."); return; }
  if (await send({ item, verdict: "fail", turns })) {
    pendingFail = null;
    view.labels.rules[item] = { verdict: "fail", turns, evidence: [] };
  }
  render();
}

async function setScore(value) {
  const score = value === null || value === "" ? null : Number(value);
  if (await send({ item: "final_score", score })) {
    view.labels.final_score = score;
    advance();
  }
  render();
}

function move(step) {
  current = (current + step + ITEMS.length) % ITEMS.length;
  render();
  if (ruleOf() === "final_score") $("score").focus();
}

document.addEventListener("keydown", (e) => {
  if (!view || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.target === $("score")) {
    if (e.key === "Enter") { e.preventDefault(); $("score").blur(); } // blur sends it (change)
    else if (e.key === "Escape") $("score").blur();
    return;
  }
  const keys = {
    p: () => setVerdict("pass"), f: () => setVerdict("fail"), n: () => setVerdict("n/a"),
    j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
    s: () => { current = ITEMS.indexOf("final_score"); render(); $("score").focus(); },
    x: () => { current = ITEMS.indexOf("final_score"); setScore(null); },
    "]": () => { if (view.complete) load(view.position + 1); else say("Some labels are still missing."); },
    "[": () => { if (view.position > 0) load(view.position - 1); },
  };
  const act = keys[e.key];
  if (act) { e.preventDefault(); act(); }
});

$("score").addEventListener("change", () => setScore($("score").value));
$("score").addEventListener("focus", () => { current = ITEMS.indexOf("final_score"); renderRules(); });
$("score-none").addEventListener("click", () => { current = ITEMS.indexOf("final_score"); setScore(null); });
$("next").addEventListener("click", () => load(view.position + 1));
$("prev").addEventListener("click", () => { if (view && view.position > 0) load(view.position - 1); });
load("next");
