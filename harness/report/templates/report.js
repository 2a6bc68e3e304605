// Transcript viewer of the sdi-harness report. Every string from the data goes on screen through
// textContent or a property, never parsed as HTML, so transcript text stays text.
// The index (who, which version, verdicts, score) is parsed at once; the transcripts come in
// gzip chunks that are decompressed (DecompressionStream) the first time one of theirs is shown.
(function () {
  "use strict";
  var PAGE = 50;
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var RULES = DATA.rules;
  var WHY = DATA.why || {};
  var VERDICT = { p: "pass", f: "fail", n: "n/a", "-": "unscored" };
  var FILTER_KEYS = ["v", "p", "r", "x", "s", "lo", "hi", "q"];
  var PAIR_KEYS = ["pa", "pb", "pr"];
  var state = { i: "", page: 0, vi: -1 };
  FILTER_KEYS.concat(PAIR_KEYS).forEach(function (k) { state[k] = ""; });
  var shown = [];
  var byKey = new Map();
  var members = [];
  var loaded = [];
  var allLoaded = null;
  DATA.interviews.forEach(function (iv) {
    byKey.set(iv.k, iv);
    (members[iv.c] = members[iv.c] || []).push(iv);
  });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clock(seconds) {
    var m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function scoreText(s) { return s === null || s === undefined ? "no score" : s + "/10"; }

  // --- transcripts, chunk by chunk -------------------------------------------------------------
  function loadChunk(n) {
    if (!loaded[n]) {
      var bin = atob(document.getElementById("chunk-" + n).textContent.trim());
      var bytes = new Uint8Array(bin.length);
      for (var j = 0; j < bin.length; j++) bytes[j] = bin.charCodeAt(j);
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      loaded[n] = new Response(stream).text().then(function (text) {
        var entries = JSON.parse(text);
        members[n].forEach(function (iv, pos) { iv.t = entries[pos][0]; iv.x = entries[pos][1]; });
      });
    }
    return loaded[n];
  }

  function withText(iv) { return loadChunk(iv.c).then(function () { return iv; }); }

  function loadAll() {
    if (!allLoaded) allLoaded = Promise.all(members.map(function (_, n) { return loadChunk(n); }));
    return allLoaded;
  }

  function haystack(iv) {
    if (iv.q === undefined) iv.q = iv.t.map(function (t) { return t[1]; }).join("\n").toLowerCase();
    return iv.q;
  }

  // --- filters and the URL hash -------------------------------------------------------------
  function readHash() {
    var raw = location.hash.slice(1);
    if (raw.indexOf("=") < 0) return "";
    var q = new URLSearchParams(raw);
    if (q.get("pa") && q.get("pb")) {
      PAIR_KEYS.forEach(function (k) { state[k] = q.get(k) || ""; });
      return "pair";
    }
    FILTER_KEYS.concat(["i"]).forEach(function (k) { state[k] = q.get(k) || ""; });
    state.page = 0;
    return "viewer";
  }

  function writeHash() {
    var q = new URLSearchParams();
    FILTER_KEYS.concat(["i"]).forEach(function (k) { if (state[k]) q.set(k, state[k]); });
    var text = q.toString().replace(/\+/g, "%20");
    history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
  }

  function matches(iv) {
    if (state.v && iv.v !== state.v) return false;
    if (state.p && iv.p !== state.p) return false;
    if (state.s) {
      if (state.s === "none" ? iv.s !== null : iv.s !== Number(state.s)) return false;
    }
    if (state.lo !== "" && (iv.s === null || iv.s < Number(state.lo))) return false;
    if (state.hi !== "" && (iv.s === null || iv.s > Number(state.hi))) return false;
    if (state.q && haystack(iv).indexOf(state.q.toLowerCase()) < 0) return false;
    var code = state.x === "fail" ? "f" : state.x === "pass" ? "p" : state.x === "n/a" ? "n" : "";
    if (state.r) {
      var idx = RULES.indexOf(state.r);
      return !code || iv.vd.charAt(idx) === code;
    }
    if (code === "p") return iv.vd.indexOf("f") < 0;
    return !code || iv.vd.indexOf(code) >= 0;
  }

  function fillSelect(id, values) {
    var sel = document.getElementById(id);
    values.forEach(function (v) {
      var opt = el("option", null, v);
      opt.value = v;
      sel.appendChild(opt);
    });
    sel.addEventListener("change", function () { setFilter(sel.dataset.key, sel.value); });
  }

  function setFilter(key, value) {
    state[key] = value;
    state.page = 0;
    update(true);
  }

  var TEXT_KEYS = ["lo", "hi", "q"];
  var typing = null;

  function wireInputs() {
    // One pause after typing in any of the text boxes reads them all, so no edit is lost.
    TEXT_KEYS.forEach(function (k) {
      document.getElementById("f-" + k).addEventListener("input", function () {
        clearTimeout(typing);
        typing = setTimeout(function () {
          TEXT_KEYS.forEach(function (key) { state[key] = document.getElementById("f-" + key).value.trim(); });
          state.page = 0;
          update(true);
        }, 250);
      });
    });
  }

  function syncControls(fromControl) {
    ["v", "p", "r", "x"].forEach(function (k) {
      var sel = document.getElementById("f-" + k);
      var known = Array.prototype.some.call(sel.options, function (o) { return o.value === state[k]; });
      if (!known) state[k] = "";
      sel.value = state[k];
    });
    if (!fromControl) TEXT_KEYS.forEach(function (k) { document.getElementById("f-" + k).value = state[k]; });
    var chip = document.getElementById("f-s");
    chip.hidden = !state.s;
    chip.textContent = state.s ? "score " + (state.s === "none" ? "none" : state.s + "/10") + " \u00d7" : "";
  }

  // --- the list ------------------------------------------------------------------------------
  function failedRules(iv) {
    var out = [];
    for (var n = 0; n < RULES.length; n++) if (iv.vd.charAt(n) === "f") out.push(RULES[n]);
    return out;
  }

  function renderList() {
    var list = document.getElementById("interview-list");
    list.replaceChildren();
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * PAGE;
    shown.slice(start, start + PAGE).forEach(function (iv) {
      var li = el("li");
      li.dataset.key = iv.k;
      if (iv.k === state.i) li.className = "selected";
      var button = el("button");
      button.type = "button";
      var row1 = el("div", "row1");
      row1.appendChild(el("span", "who", iv.p));
      row1.appendChild(el("span", "score", scoreText(iv.s)));
      var row2 = el("div", "row2");
      row2.appendChild(el("span", null, DATA.arms.length > 1 ? iv.v + " \u00b7 " + iv.id : iv.id));
      if (iv.syn) row2.appendChild(el("span", "tag synthetic", "SYNTHETIC"));
      failedRules(iv).forEach(function (r) { row2.appendChild(el("span", "chip fail", r)); });
      button.appendChild(row1);
      button.appendChild(row2);
      button.addEventListener("click", function () { select(iv.k, -1); });
      li.appendChild(button);
      list.appendChild(li);
    });
    if (!shown.length) list.appendChild(el("li", "empty", "No interview matches these filters."));
    var count = document.getElementById("match-count");
    count.textContent = shown.length + " of " + DATA.interviews.length + " interviews";
    count.dataset.count = String(shown.length);
    document.getElementById("pg-label").textContent = "page " + (state.page + 1) + " of " + pages;
    document.getElementById("pg-prev").disabled = state.page === 0;
    document.getElementById("pg-next").disabled = state.page >= pages - 1;
  }

  // --- turns, with violations and their reasons -------------------------------------------------
  function needles(quotes) {
    var out = [];
    quotes.forEach(function (q) {
      // Evidence quotes collapse whitespace and mark what they left out with an ellipsis.
      (q || "").split(/\s*(?:\u2026|\.\.\.)\s*/).forEach(function (part) {
        var needle = part.trim();
        if (needle.length < 3) return;
        var words = needle.split(/\s+/).map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
        out.push(new RegExp(words.join("\\s+")));
      });
    });
    return out;
  }

  function highlighted(text, quotes, query) {
    // The turn's text as text nodes, with each evidence quote (and the search text) in <mark>.
    var frag = document.createDocumentFragment();
    var spans = [];
    needles(quotes).forEach(function (re) {
      var found = re.exec(text);
      if (found) spans.push([found.index, found.index + found[0].length, ""]);
    });
    if (query) {
      var lower = text.toLowerCase(), q = query.toLowerCase(), at = lower.indexOf(q);
      while (at >= 0 && spans.length < 200) { spans.push([at, at + q.length, "hit"]); at = lower.indexOf(q, at + q.length); }
    }
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var merged = [];
    spans.forEach(function (span) {
      var last = merged[merged.length - 1];
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else merged.push(span.slice());
    });
    var pos = 0;
    merged.forEach(function (span) {
      frag.appendChild(document.createTextNode(text.slice(pos, span[0])));
      frag.appendChild(el("mark", span[2] || null, text.slice(span[0], span[1])));
      pos = span[1];
    });
    frag.appendChild(document.createTextNode(text.slice(pos)));
    return frag;
  }

  function annotationText(turn) {
    return turn[3].map(function (a) { return a[0] + (a[1] ? ": " + a[1] : ""); }).join(", ");
  }

  function violationRow(iv, v, onJump) {
    // rule, turn, evidence, the scorer's reason, and the candidate turn that opened the chance
    var row = el("div", "v");
    row.dataset.rule = RULES[v[0]];
    row.appendChild(el("code", null, RULES[v[0]]));
    row.appendChild(document.createTextNode(" broken at turn #" + v[1] + (v[2] ? ": \u201c" + v[2] + "\u201d" : "")));
    var why = el("span", "why", v[3] ? "why: " + v[3] : "why: the rule fails when " + (WHY[RULES[v[0]]] || "its condition is not met"));
    row.appendChild(why);
    if (v[4] !== null && v[4] !== undefined && iv.t[v[4]]) {
      var opened = el("span", "opened", "opened by candidate turn ");
      var link = el("a", null, "#" + v[4]);
      link.addEventListener("click", function () { onJump(v[4]); });
      opened.appendChild(link);
      var ann = annotationText(iv.t[v[4]]);
      opened.appendChild(document.createTextNode((ann ? " (" + ann + ")" : "") + ": \u201c" + iv.t[v[4]][1].slice(0, 160) + (iv.t[v[4]][1].length > 160 ? "\u2026" : "") + "\u201d"));
      row.appendChild(opened);
    }
    return row;
  }

  function turnBox(iv, idx, idPrefix, onJump, sideLabel) {
    var t = iv.t[idx];
    var role = t[0] === 1 ? "interviewer" : "candidate";
    var hits = iv.x.filter(function (v) { return v[1] === idx; });
    var box = el("div", "turn " + role + (hits.length ? " violation" : ""));
    box.id = idPrefix + idx;
    box.dataset.turn = String(idx);
    var meta = el("div", "meta");
    if (sideLabel) meta.appendChild(el("span", "side-label", sideLabel));
    meta.appendChild(el("span", null, "#" + idx + " " + role));
    meta.appendChild(el("span", null, clock(t[2])));
    box.appendChild(meta);
    var body = el("div", "text");
    body.appendChild(highlighted(t[1], hits.map(function (v) { return v[2]; }), state.q));
    box.appendChild(body);
    if (t[3].length) {
      var anns = el("div", "annotations");
      t[3].forEach(function (a) {
        anns.appendChild(el("span", "chip ann", a[0] + (a[1] ? ": " + a[1] : "")));
        if (a[2]) anns.appendChild(el("span", "note", a[2]));
      });
      box.appendChild(anns);
    }
    if (hits.length) {
      var list = el("div", "violations");
      hits.forEach(function (v) { list.appendChild(violationRow(iv, v, onJump)); });
      box.appendChild(list);
    }
    return box;
  }

  // --- one interview as a chat -----------------------------------------------------------------
  function renderChat(iv) {
    var pane = document.getElementById("chat");
    pane.replaceChildren();
    if (!iv) {
      delete pane.dataset.key;
      pane.appendChild(el("p", "muted", "Pick an interview."));
      return;
    }
    pane.dataset.key = iv.k;
    var head = el("header", "chat-head");
    head.appendChild(el("h3", null, iv.id));
    var facts = el("div", "facts");
    [["run", iv.run], ["version", iv.v], ["persona", iv.p], ["sample", iv.n], ["problem", iv.pr || "none"],
     ["final score", scoreText(iv.s)], ["ended by", iv.end || "?"], ["turns", iv.t.length]]
      .forEach(function (f) { facts.appendChild(el("span", null, f[0] + ": " + f[1])); });
    head.appendChild(facts);
    if (iv.syn) {
      head.appendChild(el("p", "synthetic-note",
        "SYNTHETIC: both sides of this interview come from the offline synthetic backend, a seeded stand-in; this is not model output."));
    }
    var verdicts = el("div", "verdicts");
    RULES.forEach(function (rule, n) {
      var verdict = VERDICT[iv.vd.charAt(n)] || "unscored";
      var cls = verdict === "fail" ? "fail" : verdict === "pass" ? "pass" : "na";
      var chip = el("span", "chip " + cls, rule + ": " + verdict);
      var at = iv.x.findIndex(function (v) { return v[0] === n; });
      if (verdict === "fail" && at >= 0) {
        chip.title = "jump to turn " + iv.x[at][1];
        chip.addEventListener("click", function () { focusViolation(at); });
      }
      verdicts.appendChild(chip);
    });
    head.appendChild(verdicts);
    var nav = el("div", "chat-nav");
    var prev = el("button", null, "\u2039 previous violation");
    prev.type = "button";
    prev.id = "vx-prev";
    prev.addEventListener("click", function () { stepViolation(-1); });
    var next = el("button", null, "next violation \u203a");
    next.type = "button";
    next.id = "vx-next";
    next.addEventListener("click", function () { stepViolation(1); });
    var where = el("span", "muted", "");
    where.id = "vx-where";
    nav.appendChild(prev);
    nav.appendChild(next);
    nav.appendChild(where);
    head.appendChild(nav);
    pane.appendChild(head);

    var turns = el("div", "turns");
    iv.t.forEach(function (_, idx) { turns.appendChild(turnBox(iv, idx, "turn-", focusTurn)); });
    pane.appendChild(turns);
    pane.scrollTop = 0;
    describeViolation(iv);
  }

  function describeViolation(iv) {
    var where = document.getElementById("vx-where");
    if (!where) return;
    where.textContent = iv.x.length
      ? (state.vi >= 0 ? "violation " + (state.vi + 1) + " of " + iv.x.length : iv.x.length + " violation(s)") + " in this interview (keys: n, p)"
      : "no violation in this interview (next goes to the next one that has some)";
  }

  function focusTurn(idx) {
    var pane = document.getElementById("chat");
    var node = document.getElementById("turn-" + idx);
    if (!node) return;
    Array.prototype.forEach.call(pane.querySelectorAll(".turn.focus"), function (n) { n.classList.remove("focus"); });
    node.classList.add("focus");
    pane.scrollTop = node.offsetTop - pane.offsetTop - 40;
  }

  function focusViolation(n) {
    var iv = byKey.get(state.i);
    if (!iv || !iv.x || !iv.x[n]) return;
    state.vi = n;
    focusTurn(iv.x[n][1]);
    describeViolation(iv);
  }

  function stepViolation(dir) {
    // Next or previous violation across the run: within this interview, then on to the
    // nearest interview (in the list's order) that has any.
    var iv = byKey.get(state.i);
    if (iv && iv.x) {
      var n = state.vi + dir;
      if (state.vi < 0 && dir < 0) n = -1;
      if (n >= 0 && n < iv.x.length) { focusViolation(n); return; }
    }
    var at = shown.findIndex(function (s) { return s.k === state.i; });
    for (var j = at + dir; j >= 0 && j < shown.length; j += dir) {
      if (shown[j].nx > 0) {
        var target = shown[j];
        state.page = Math.floor(j / PAGE);
        select(target.k, dir > 0 ? 0 : target.nx - 1);
        return;
      }
    }
  }

  function select(key, violation) {
    state.i = key;
    state.vi = violation;
    writeHash();
    renderList();
    return showInterview(violation);
  }

  function showInterview(violation) {
    var iv = byKey.get(state.i);
    if (!iv) { renderChat(null); return Promise.resolve(); }
    return withText(iv).then(function () {
      if (state.i !== iv.k) return;
      renderChat(iv);
      if (violation >= 0) focusViolation(violation);
      else if (state.r) {
        var ruleIdx = RULES.indexOf(state.r);
        var at = iv.x.findIndex(function (v) { return v[0] === ruleIdx; });
        if (at >= 0) focusViolation(at);
      }
    });
  }

  // --- two versions side by side -----------------------------------------------------------------
  function showPair() {
    var a = byKey.get(state.pa), b = byKey.get(state.pb);
    if (!a || !b) return Promise.resolve();
    return Promise.all([withText(a), withText(b)]).then(function () { renderPair(a, b, state.pr); });
  }

  function renderPair(a, b, rule) {
    var box = document.getElementById("paired");
    var body = document.getElementById("paired-body");
    box.hidden = false;
    box.dataset.pair = a.k + "|" + b.k;
    var ruleIdx = RULES.indexOf(rule);
    var verdictOf = function (iv) { return ruleIdx >= 0 ? VERDICT[iv.vd.charAt(ruleIdx)] : ""; };
    document.getElementById("paired-title").textContent =
      a.p + " \u00b7 sample " + a.n + ": " + a.v + " and " + b.v + " side by side" +
      (rule ? " (" + rule + ": " + verdictOf(a) + " \u2192 " + verdictOf(b) + ")" : "");
    body.replaceChildren();
    var grid = el("div", "pair-grid");
    [a, b].forEach(function (iv, side) {
      var h = el("div", "side-head side-" + (side ? "b" : "a"),
        iv.v + " \u00b7 " + iv.id + " \u00b7 " + scoreText(iv.s) + " \u00b7 " + iv.x.length + " violation(s)");
      grid.appendChild(h);
    });
    var rows = Math.max(a.t.length, b.t.length);
    for (var idx = 0; idx < rows; idx++) {
      [a, b].forEach(function (iv, side) {
        var cell = el("div", "side-" + (side ? "b" : "a"));
        if (idx < iv.t.length) {
          var prefix = "pair-" + (side ? "b" : "a") + "-";
          var turn = turnBox(iv, idx, prefix, function (k) {
            var node = document.getElementById(prefix + k);
            if (node) node.scrollIntoView({ block: "center" });
          }, iv.v);
          if (rule && iv.x.some(function (v) { return v[1] === idx && RULES[v[0]] === rule; })) turn.classList.add("focus");
          cell.appendChild(turn);
        } else {
          cell.appendChild(el("div", "empty-turn"));
        }
        grid.appendChild(cell);
      });
    }
    body.appendChild(grid);
    box.scrollIntoView({ behavior: "instant", block: "start" });
  }

  // --- wiring --------------------------------------------------------------------------------------
  function update(fromControl) {
    syncControls(fromControl);
    if (state.q && members.some(function (_, n) { return !loaded[n]; })) {
      document.getElementById("match-count").textContent = "searching all transcripts\u2026";
      return loadAll().then(function () { return update(fromControl); });
    }
    shown = DATA.interviews.filter(matches);
    if (fromControl) {
      if (!state.i || !shown.some(function (iv) { return iv.k === state.i; })) state.i = shown.length ? shown[0].k : "";
      state.vi = -1;
      writeHash();
    } else if (!state.i && shown.length) {
      state.i = shown[0].k;
    }
    var at = shown.findIndex(function (iv) { return iv.k === state.i; });
    if (at >= 0 && !fromControl) state.page = Math.floor(at / PAGE);
    renderList();
    return showInterview(state.vi);
  }

  fillSelect("f-v", DATA.arms);
  fillSelect("f-p", DATA.personas);
  fillSelect("f-r", RULES);
  fillSelect("f-x", []);
  wireInputs();
  document.getElementById("f-s").addEventListener("click", function () { setFilter("s", ""); });
  document.getElementById("f-clear").addEventListener("click", function () {
    FILTER_KEYS.forEach(function (k) { state[k] = ""; });
    state.page = 0;
    update(false);
    writeHash();
  });
  document.getElementById("pg-prev").addEventListener("click", function () { state.page -= 1; renderList(); });
  document.getElementById("pg-next").addEventListener("click", function () { state.page += 1; renderList(); });
  var closePair = document.getElementById("paired-close");
  if (closePair) closePair.addEventListener("click", function () { document.getElementById("paired").hidden = true; });
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "n") stepViolation(1);
    if (e.key === "p") stepViolation(-1);
  });
  window.addEventListener("hashchange", function () {
    var kind = readHash();
    if (kind === "pair") showPair();
    if (kind === "viewer") {
      state.vi = -1;
      update(false);
      document.getElementById("transcripts").scrollIntoView({ behavior: "smooth" });
    }
  });

  var fromLink = readHash();
  var first = update(false);
  if (fromLink === "viewer") document.getElementById("transcripts").scrollIntoView({ behavior: "instant" });
  Promise.resolve(first).then(function () {
    return fromLink === "pair" ? showPair() : null;
  }).then(function () {
    window.__reportReady = performance.now();
    document.body.dataset.ready = "1";
  });
})();
