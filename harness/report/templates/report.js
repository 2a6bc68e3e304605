// Transcript viewer of the sdi-harness report. Every string from the data goes on screen through
// textContent or a property, never parsed as HTML, so transcript text stays text.
(function () {
  "use strict";
  var PAGE = 50;
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var RULES = DATA.rules;
  var VERDICT = { p: "pass", f: "fail", n: "n/a", "-": "unscored" };
  var FILTER_KEYS = ["v", "p", "r", "x", "s"];
  var state = { v: "", p: "", r: "", x: "", s: "", i: "", page: 0 };
  var shown = [];
  var byKey = new Map();
  DATA.interviews.forEach(function (iv) { byKey.set(iv.k, iv); });

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

  // --- filters and the URL hash -------------------------------------------------------------
  function readHash() {
    var raw = location.hash.slice(1);
    if (raw.indexOf("=") < 0) return false; // a plain section anchor
    var q = new URLSearchParams(raw);
    FILTER_KEYS.concat(["i"]).forEach(function (k) { state[k] = q.get(k) || ""; });
    state.page = 0;
    return true;
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
    var code = state.x === "fail" ? "f" : state.x === "pass" ? "p" : state.x === "n/a" ? "n" : "";
    if (state.r) {
      var idx = RULES.indexOf(state.r);
      return !code || iv.vd.charAt(idx) === code;
    }
    if (code === "p") return iv.vd.indexOf("f") < 0;
    return !code || iv.vd.indexOf(code) >= 0;
  }

  function fillSelect(id, values, label) {
    var sel = document.getElementById(id);
    values.forEach(function (v) {
      var opt = el("option", null, label ? label(v) : v);
      opt.value = v;
      sel.appendChild(opt);
    });
    sel.addEventListener("change", function () {
      state[sel.dataset.key] = sel.value;
      state.page = 0;
      update(true);
    });
  }

  function syncControls() {
    ["v", "p", "r", "x"].forEach(function (k) {
      var sel = document.getElementById("f-" + k);
      var known = Array.prototype.some.call(sel.options, function (o) { return o.value === state[k]; });
      if (!known) state[k] = "";
      sel.value = state[k];
    });
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
      button.addEventListener("click", function () { select(iv.k); });
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

  // --- one interview as a chat -----------------------------------------------------------------
  function highlighted(text, quotes) {
    // The turn's text as text nodes, with each evidence quote found in it wrapped in <mark>.
    var frag = document.createDocumentFragment();
    var spans = [];
    quotes.forEach(function (q) {
      // Evidence quotes collapse whitespace and mark what they left out with an ellipsis.
      (q || "").split(/\s*(?:\u2026|\.\.\.)\s*/).forEach(function (part) {
        var needle = part.trim();
        if (needle.length < 3) return;
        var words = needle.split(/\s+/).map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
        var found = new RegExp(words.join("\\s+")).exec(text);
        if (found) spans.push([found.index, found.index + found[0].length]);
      });
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var merged = [];
    spans.forEach(function (span) {
      var last = merged[merged.length - 1];
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else merged.push(span);
    });
    var pos = 0;
    merged.forEach(function (span) {
      frag.appendChild(document.createTextNode(text.slice(pos, span[0])));
      frag.appendChild(el("mark", null, text.slice(span[0], span[1])));
      pos = span[1];
    });
    frag.appendChild(document.createTextNode(text.slice(pos)));
    return frag;
  }

  function renderChat(iv) {
    var pane = document.getElementById("chat");
    pane.replaceChildren();
    if (!iv) {
      pane.appendChild(el("p", "muted", "Pick an interview."));
      return;
    }
    pane.dataset.key = iv.k;
    var head = el("header", "chat-head");
    head.appendChild(el("h3", null, iv.id));
    var facts = el("div", "facts");
    [["run", iv.run], ["version", iv.v], ["persona", iv.p], ["problem", iv.pr || "none"],
     ["final score", scoreText(iv.s)], ["ended by", iv.end || "?"], ["turns", iv.t.length]]
      .forEach(function (f) { facts.appendChild(el("span", null, f[0] + ": " + f[1])); });
    head.appendChild(facts);
    if (iv.syn) {
      head.appendChild(el("p", "synthetic-note",
        "SYNTHETIC: both sides of this interview come from the offline synthetic backend, a seeded stand-in; this is not model output."));
    }
    var verdicts = el("div", "verdicts");
    var firstFail = {};
    iv.x.forEach(function (v) { if (!(v[0] in firstFail)) firstFail[v[0]] = v[1]; });
    RULES.forEach(function (rule, n) {
      var verdict = VERDICT[iv.vd.charAt(n)] || "unscored";
      var cls = verdict === "fail" ? "fail" : verdict === "pass" ? "pass" : "na";
      var chip = el("span", "chip " + cls, rule + ": " + verdict);
      if (verdict === "fail" && n in firstFail) {
        chip.title = "jump to turn " + firstFail[n];
        chip.addEventListener("click", function () { focusTurn(firstFail[n]); });
      }
      verdicts.appendChild(chip);
    });
    head.appendChild(verdicts);
    pane.appendChild(head);

    var byTurn = {};
    iv.x.forEach(function (v) { (byTurn[v[1]] = byTurn[v[1]] || []).push(v); });
    var turns = el("div", "turns");
    iv.t.forEach(function (t, idx) {
      var role = t[0] === 1 ? "interviewer" : "candidate";
      var hits = byTurn[idx] || [];
      var box = el("div", "turn " + role + (hits.length ? " violation" : ""));
      box.id = "turn-" + idx;
      box.dataset.turn = String(idx);
      var meta = el("div", "meta");
      meta.appendChild(el("span", null, "#" + idx + " " + role));
      meta.appendChild(el("span", null, clock(t[2])));
      box.appendChild(meta);
      var body = el("div", "text");
      body.appendChild(highlighted(t[1], hits.map(function (v) { return v[2]; })));
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
        hits.forEach(function (v) {
          var row = el("div", "v");
          row.appendChild(el("code", null, RULES[v[0]]));
          row.appendChild(document.createTextNode(" broken here" + (v[2] ? ": \u201c" + v[2] + "\u201d" : "")));
          list.appendChild(row);
        });
        box.appendChild(list);
      }
      turns.appendChild(box);
    });
    pane.appendChild(turns);
    pane.scrollTop = 0;
    if (state.r) {
      var ruleIdx = RULES.indexOf(state.r);
      if (ruleIdx in firstFail) focusTurn(firstFail[ruleIdx]);
    }
  }

  function focusTurn(idx) {
    var pane = document.getElementById("chat");
    var node = document.getElementById("turn-" + idx);
    if (!node) return;
    Array.prototype.forEach.call(pane.querySelectorAll(".turn.focus"), function (n) { n.classList.remove("focus"); });
    node.classList.add("focus");
    pane.scrollTop = node.offsetTop - pane.offsetTop - 40;
  }

  function select(key) {
    state.i = key;
    writeHash();
    Array.prototype.forEach.call(document.querySelectorAll("#interview-list li"), function (li) {
      li.classList.toggle("selected", li.dataset.key === key);
    });
    renderChat(byKey.get(key));
  }

  // --- wiring --------------------------------------------------------------------------------------
  function update(fromControl) {
    syncControls();
    shown = DATA.interviews.filter(matches);
    if (fromControl) {
      if (!state.i || !shown.some(function (iv) { return iv.k === state.i; })) state.i = shown.length ? shown[0].k : "";
      writeHash();
    } else if (!state.i && shown.length) {
      state.i = shown[0].k;
    }
    renderList();
    renderChat(byKey.get(state.i));
  }

  fillSelect("f-v", DATA.arms);
  fillSelect("f-p", DATA.personas);
  fillSelect("f-r", RULES);
  fillSelect("f-x", []);
  document.getElementById("f-s").addEventListener("click", function () { state.s = ""; update(true); });
  document.getElementById("f-clear").addEventListener("click", function () {
    FILTER_KEYS.forEach(function (k) { state[k] = ""; });
    state.page = 0;
    update(true);
  });
  document.getElementById("pg-prev").addEventListener("click", function () { state.page -= 1; renderList(); });
  document.getElementById("pg-next").addEventListener("click", function () { state.page += 1; renderList(); });
  window.addEventListener("hashchange", function () {
    if (readHash()) {
      update(false);
      document.getElementById("transcripts").scrollIntoView({ behavior: "smooth" });
    }
  });

  var fromLink = readHash();
  update(false);
  if (fromLink) document.getElementById("transcripts").scrollIntoView({ behavior: "instant" });
  window.__reportReady = performance.now();
  document.body.dataset.ready = "1";
})();
