// Hailong kiosk: progressive enhancement of the survey form at /k/{token}.
// - shows/hides conditional questions and sections, and the options of
//   cascading lists, as answers change (conditions.js evaluates them the way
//   the server does), and checks required answers and constraints;
// - sends answers as JSON with a client-generated submission id, queueing them
//   in localStorage while the network is down and retrying when it returns
//   (the server ignores a repeated id, so a retry never creates a duplicate);
// - returns to a blank form after the thank-you or after an idle period,
//   so the next person never sees the previous person's answers.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form || !form.dataset.endpoint || !window.HailongConditions) {
    return;
  }
  var endpoint = form.dataset.endpoint;
  var locality = form.dataset.locality;
  var idleMs = (parseInt(form.dataset.idle, 10) || 90) * 1000;
  var requiredMsg = form.dataset.requiredMsg || "";
  var thanks = document.getElementById("kiosk-thanks");
  var queueNote = document.getElementById("kiosk-queue");
  var key = "hailong-kiosk-queue:" + endpoint;

  function uuid() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) {
      return (x + 0x100).toString(16).slice(1);
    }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  }

  function questions() {
    return Array.prototype.slice.call(form.querySelectorAll("[data-q]"));
  }

  // The raw value of a question as the API wants it, or undefined.
  function valueOf(el) {
    var kind = el.dataset.kind;
    var name = "a." + el.dataset.q;
    var inputs = Array.prototype.slice.call(form.querySelectorAll("[name='" + name + "']"));
    if (kind === "multiple_choice") {
      var picked = inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
      if (picked.length === 1 && (picked[0] === "dk" || picked[0] === "na")) { return picked[0]; }
      return picked.length ? picked.filter(function (v) { return v !== "dk" && v !== "na"; }) : undefined;
    }
    if (kind === "short_text" || kind === "long_text" || kind === "number") {
      var v = inputs.length ? inputs[0].value : "";
      if (v.trim() === "") { return undefined; }
      if (kind === "number") { return /^-?\d+$/.test(v.trim()) ? parseInt(v, 10) : v; }
      return v;
    }
    var checked = inputs.filter(function (i) { return i.checked; })[0];
    if (!checked) { return undefined; }
    var val = checked.value;
    if (val === "dk" || val === "na") { return val; }
    if (kind === "scale") { return parseInt(val, 10); }
    if (kind === "yes_no") { return val === "yes"; }
    return val;
  }

  var logic = window.HailongConditions;

  // The questionnaire's logic as the page carries it: sections (with their
  // condition) and their questions (data-logic, no texts).
  function definition() {
    var sections = Array.prototype.slice.call(form.querySelectorAll("[data-section]"));
    return {
      sections: sections.map(function (s) {
        return {
          code: s.dataset.section,
          condition: s.dataset.cond ? JSON.parse(s.dataset.cond) : null,
          questions: Array.prototype.slice.call(s.querySelectorAll("[data-q]")).map(function (el) {
            return el.dataset.logic ? JSON.parse(el.dataset.logic) : { code: el.dataset.q, type: el.dataset.kind };
          })
        };
      })
    };
  }
  var def = definition();

  function byCode(code) {
    return form.querySelector("[data-q='" + code + "']");
  }

  // Shows the questions and sections whose conditions hold and the options
  // cascading lists offer (unchecking the others), as the server would;
  // returns the evaluation and the answers of the shown questions.
  function collect() {
    var raw, result;
    for (var round = 0; round < 5; round++) {
      raw = {};
      questions().forEach(function (el) {
        var v = valueOf(el);
        if (v !== undefined) { raw[el.dataset.q] = v; }
      });
      // Hidden questions do not count for the conditions of later ones.
      result = logic.evaluate(def, raw);
      var shown = {};
      result.questions.forEach(function (c) { shown[c] = true; });
      var changed = false;
      questions().forEach(function (el) {
        var code = el.dataset.q;
        el.hidden = !shown[code];
        var offered = result.offered[code];
        if (offered) {
          el.querySelectorAll("input").forEach(function (i) {
            if (i.value === "dk" || i.value === "na") { return; }
            var ok = offered.indexOf(i.value) >= 0;
            var label = i.closest("label");
            if (label) { label.hidden = !ok; }
            if (!ok && i.checked) { i.checked = false; changed = true; }
          });
        }
        if (!shown[code] && raw[code] !== undefined) {
          delete raw[code];
        }
      });
      form.querySelectorAll("[data-section]").forEach(function (s) {
        var anyShown = Array.prototype.some.call(s.querySelectorAll("[data-q]"), function (el) { return !el.hidden; });
        s.hidden = result.sections.indexOf(s.dataset.section) < 0 || !anyShown;
      });
      if (!changed) { break; }
    }
    var answers = {};
    Object.keys(raw).forEach(function (code) {
      if (result.questions.indexOf(code) >= 0) { answers[code] = raw[code]; }
    });
    return { answers: answers, problems: result.problems };
  }

  function clearErrors() {
    form.querySelectorAll(".kiosk-error").forEach(function (e) { e.remove(); });
    form.querySelectorAll(".invalid").forEach(function (e) { e.classList.remove("invalid"); });
  }

  function showError(el, msg) {
    var p = document.createElement("p");
    p.className = "field-error kiosk-error";
    p.id = "q-" + el.dataset.q + "-kerr";
    p.textContent = msg;
    var legend = el.querySelector("legend, label");
    legend.insertAdjacentElement("afterend", p);
    el.classList.add("invalid");
  }

  function queue() {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }

  function saveQueue(q) {
    localStorage.setItem(key, JSON.stringify(q));
    if (queueNote) { queueNote.hidden = q.length === 0; }
  }

  var flushing = false;
  function flush() {
    if (flushing) { return; }
    var q = queue();
    if (!q.length) { saveQueue(q); return; }
    flushing = true;
    var item = q[0];
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(item),
      credentials: "omit"
    }).then(function (res) {
      // Stored (201), already stored (200), or refused for good (4xx other
      // than 408/429): remove it from the queue. Anything else: retry later.
      var done = res.ok || (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429);
      if (done) {
        saveQueue(queue().filter(function (x) { return x.submission_id !== item.submission_id; }));
      }
      flushing = false;
      if (done && queue().length) { flush(); }
    }, function () {
      flushing = false;
    });
  }

  // Clears every answer (not form.reset(), which would restore answers a
  // server-rendered page had pre-filled).
  function blank() {
    form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(function (i) { i.checked = false; });
    form.querySelectorAll("input[type=text], input[type=number], textarea").forEach(function (i) { i.value = ""; });
    // Questions with a default start from it again.
    questions().forEach(function (el) {
      var q = el.dataset.logic ? JSON.parse(el.dataset.logic) : null;
      if (!q || q.default === undefined || q.default === null) { return; }
      var d = q.default;
      var wanted = Array.isArray(d) ? d.map(String) : [d === true ? "yes" : d === false ? "no" : String(d)];
      el.querySelectorAll("input, textarea").forEach(function (i) {
        if (i.type === "radio" || i.type === "checkbox") {
          i.checked = wanted.indexOf(i.value) >= 0;
        } else {
          i.value = wanted[0];
        }
      });
    });
  }

  function reset() {
    blank();
    clearErrors();
    collect();
    if (thanks) { thanks.hidden = true; }
    form.hidden = false;
    window.scrollTo(0, 0);
  }

  var idleTimer = null;
  function bump() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(reset, idleMs);
  }

  form.addEventListener("change", function () { collect(); });
  ["pointerdown", "keydown", "change", "input"].forEach(function (t) {
    document.addEventListener(t, bump, { passive: true });
  });

  form.addEventListener("submit", function (ev) {
    var nav = ev.submitter && ev.submitter.value;
    if (nav && nav.indexOf("lang-") === 0) { return; } // language switch: a normal post
    ev.preventDefault();
    clearErrors();
    var evaluated = collect();
    var answers = evaluated.answers;
    // The server stays the judge; these are the problems it would report.
    var bad = [];
    evaluated.problems.forEach(function (p) {
      var el = byCode(p.question);
      if (!el || el.hidden || bad.indexOf(el) >= 0) { return; }
      var msg = p.code === "answer_required" ? (el.dataset.requiredMsg || requiredMsg)
        : p.code === "constraint_failed" ? (el.dataset.constraintMsg || form.dataset.constraintMsg || "")
        : (form.dataset.invalidMsg || "");
      showError(el, msg);
      bad.push(el);
    });
    if (bad.length) {
      bad[0].scrollIntoView();
      var first = bad[0].querySelector("input, textarea, select");
      if (first) { first.focus(); }
      return;
    }
    var q = queue();
    q.push({ submission_id: uuid(), locality: locality, answers: answers, channel: "kiosk" });
    saveQueue(q);
    flush();
    blank();
    form.hidden = true;
    if (thanks) { thanks.hidden = false; thanks.focus && thanks.focus(); }
    window.scrollTo(0, 0);
    clearTimeout(idleTimer);
    idleTimer = setTimeout(reset, 6000);
  });

  window.addEventListener("online", flush);
  setInterval(flush, 10000);
  collect();
  saveQueue(queue());
  flush();
  bump();
})();
