// Hailong kiosk: progressive enhancement of the survey form at /k/{token}.
// - shows/hides conditional questions and sections, and the options of
//   cascading lists, as answers change (conditions.js evaluates them the way
//   the server does), and checks required answers and constraints;
// - sends answers as JSON with a client-generated submission id, queueing them
//   in localStorage while the network is down and retrying when it returns
//   (the server ignores a repeated id, so a retry never creates a duplicate);
// - shows one section per screen (progress bar, Next checks the screen's
//   answers, Back, "send" on the last shown section; sections hidden by
//   conditions are skipped);
// - registers the service worker (/k/sw.js) that keeps the page, stylesheet
//   and scripts, so a reload or a restart while offline still shows the form;
// - keeps the answers being entered across the language link (sessionStorage,
//   for that one reload only);
// - returns to a blank first screen after the thank-you or after an idle
//   period, so the next person never sees the previous person's answers.
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

  // Runs `send` for one queued item unless another tab or reload is sending
  // it (a Web Lock per submission id, released when the tab goes away);
  // without Web Locks, only this tab's own flag applies and the server's
  // idempotence on the submission id keeps a second send harmless.
  function whileHolding(id, send) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("hailong-kiosk-send:" + id, { ifAvailable: true }, function (lock) {
        return lock ? send() : "busy";
      });
    }
    return send();
  }

  function queued(id) {
    return queue().some(function (x) { return x.submission_id === id; });
  }

  // Sends the queue, oldest first, one item at a time; stops at the first
  // network failure (the next `online` event or retry tick starts again).
  var flushing = false;
  function flush() {
    if (flushing) { return; }
    if (!queue().length) { saveQueue([]); return; }
    flushing = true;
    var skip = 0;
    function step() {
      var q = queue();
      if (skip >= q.length) { flushing = false; saveQueue(q); return; }
      var item = q[skip];
      whileHolding(item.submission_id, function () {
        // Sent by another tab while this one waited: nothing to do.
        if (!queued(item.submission_id)) { return "gone"; }
        return fetch(endpoint, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(item),
          credentials: "omit"
        }).then(function (res) {
          // Stored (201), already stored (200), or refused for good (4xx
          // other than 408/429): remove it from the queue, before the lock
          // is released. Anything else: retry later.
          var done = res.ok || (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429);
          if (!done) { return "retry"; }
          saveQueue(queue().filter(function (x) { return x.submission_id !== item.submission_id; }));
          return "sent";
        });
      }).then(function (outcome) {
        if (outcome === "retry") { flushing = false; return; }
        if (outcome === "busy") { skip++; }
        step();
      }, function () {
        flushing = false;
      });
    }
    step();
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

  // One section per screen. `screen` is the index of the section shown;
  // the others carry the class kiosk-off (sections hidden by their
  // conditions keep their own `hidden`).
  var sections = Array.prototype.slice.call(form.querySelectorAll("[data-section]"));
  var wizard = sections.length > 1;
  var screen = 0;
  var nextButton = document.getElementById("kiosk-next");
  var backButton = document.getElementById("kiosk-back");
  var sendButton = form.querySelector("button[name=nav][value=submit]");
  var progress = document.getElementById("kiosk-progress");
  var progressText = document.getElementById("kiosk-progress-text");
  var bar = document.getElementById("kiosk-bar");
  var checkNote = document.getElementById("kiosk-check");
  if (!nextButton || !backButton || !sendButton || !progress || !progressText || !bar) {
    wizard = false;
  }

  function shownSections() {
    return sections.filter(function (s) { return !s.hidden; });
  }

  function render() {
    if (!wizard) { return; }
    var shown = shownSections();
    var current = sections[screen];
    if (!current || current.hidden) {
      // Its condition no longer holds: the next shown section, else the last.
      current = shown.filter(function (s) { return sections.indexOf(s) > screen; })[0] ||
        shown[shown.length - 1] || sections[0];
      screen = sections.indexOf(current);
    }
    sections.forEach(function (s, i) { s.classList.toggle("kiosk-off", i !== screen); });
    var at = Math.max(shown.indexOf(current), 0);
    var total = Math.max(shown.length, 1);
    var last = at >= total - 1;
    sendButton.hidden = !last;
    nextButton.hidden = last;
    backButton.hidden = at === 0;
    progress.hidden = false;
    progressText.textContent = (progressText.dataset.pattern || "")
      .replace("{current}", String(at + 1)).replace("{total}", String(total));
    bar.max = total;
    bar.value = at;
  }

  function goTo(section) {
    screen = sections.indexOf(section);
    if (checkNote) { checkNote.hidden = true; }
    render();
    window.scrollTo(0, 0);
    var heading = section.querySelector("h2");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }

  // Shows the messages for the problems inside `scope` (the whole form when
  // null); returns the questions with a problem.
  function showProblems(problems, scope) {
    var bad = [];
    problems.forEach(function (p) {
      var el = byCode(p.question);
      if (!el || el.hidden || bad.indexOf(el) >= 0 || (scope && !scope.contains(el))) { return; }
      var msg = p.code === "answer_required" ? (el.dataset.requiredMsg || requiredMsg)
        : p.code === "constraint_failed" ? (el.dataset.constraintMsg || form.dataset.constraintMsg || "")
        : (form.dataset.invalidMsg || "");
      showError(el, msg);
      bad.push(el);
    });
    return bad;
  }

  function pointAt(bad) {
    if (checkNote && wizard) { checkNote.hidden = false; }
    bad[0].scrollIntoView();
    var first = bad[0].querySelector("input, textarea, select");
    if (first) { first.focus({ preventScroll: true }); }
  }

  function next() {
    clearErrors();
    var evaluated = collect();
    var current = sections[screen];
    var bad = showProblems(evaluated.problems, current);
    if (bad.length) { pointAt(bad); return; }
    var shown = shownSections();
    var following = shown[shown.indexOf(current) + 1];
    if (following) { goTo(following); }
  }

  function back() {
    clearErrors();
    collect();
    var shown = shownSections();
    var before = shown[shown.indexOf(sections[screen]) - 1];
    if (before) { goTo(before); }
  }

  // The answers being entered, kept for the one reload of a language switch
  // (sessionStorage: this tab only), and forgotten on every reset.
  var keepKey = "hailong-kiosk-keep:" + endpoint;
  var KEEP_MS = 30000;

  function forget() {
    try { sessionStorage.removeItem(keepKey); } catch (e) { /* storage off */ }
  }

  function keep() {
    var fields = [];
    form.querySelectorAll("input[name^='a.'], textarea[name^='a.']").forEach(function (i) {
      if (i.type === "radio" || i.type === "checkbox") {
        if (i.checked) { fields.push([i.name, i.value]); }
      } else if (i.value !== "") {
        fields.push([i.name, i.value]);
      }
    });
    try {
      sessionStorage.setItem(keepKey, JSON.stringify({
        // Only for the reload that follows: a page opened later starts blank.
        until: Date.now() + KEEP_MS,
        screen: sections[screen] ? sections[screen].dataset.section : null,
        fields: fields
      }));
    } catch (e) { /* storage off: the answers are lost, as without script */ }
  }

  function restore() {
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(keepKey) || "null"); } catch (e) { kept = null; }
    forget();
    if (!kept || !(kept.until > Date.now()) || !Array.isArray(kept.fields)) { return; }
    form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(function (i) { i.checked = false; });
    kept.fields.forEach(function (f) {
      form.querySelectorAll("[name='" + String(f[0]).replace(/['\\]/g, "") + "']").forEach(function (i) {
        if (i.type === "radio" || i.type === "checkbox") {
          if (i.value === f[1]) { i.checked = true; }
        } else {
          i.value = f[1];
        }
      });
    });
    collect();
    var section = form.querySelector("[data-section='" + String(kept.screen).replace(/['\\]/g, "") + "']");
    if (section) { screen = sections.indexOf(section); }
  }

  // The language link: the same kiosk page in the other language (?lang=,
  // which the worker also keeps for offline use), answers and screen kept.
  function switchLanguage(code) {
    keep();
    window.location.assign(window.location.pathname + "?lang=" + encodeURIComponent(code));
  }

  function languages() {
    var codes = [document.documentElement.lang];
    document.querySelectorAll(".langs a.lang[hreflang]").forEach(function (a) {
      codes.push(a.getAttribute("hreflang"));
    });
    return codes.filter(function (c) { return /^[a-z]{2}$/.test(c || ""); });
  }

  document.querySelectorAll(".langs a.lang[hreflang]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      switchLanguage(a.getAttribute("hreflang"));
    });
  });

  function reset() {
    forget();
    blank();
    clearErrors();
    collect();
    if (thanks) { thanks.hidden = true; }
    form.hidden = false;
    if (checkNote) { checkNote.hidden = true; }
    screen = 0;
    render();
    window.scrollTo(0, 0);
  }

  var idleTimer = null;
  function bump() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(reset, idleMs);
  }

  form.addEventListener("change", function () { collect(); render(); });
  ["pointerdown", "keydown", "change", "input"].forEach(function (t) {
    document.addEventListener(t, bump, { passive: true });
  });
  if (wizard) {
    nextButton.addEventListener("click", next);
    backButton.addEventListener("click", back);
  }

  form.addEventListener("submit", function (ev) {
    var nav = ev.submitter && ev.submitter.value;
    ev.preventDefault();
    if (nav && nav.indexOf("lang-") === 0) {
      switchLanguage(nav.slice(5));
      return;
    }
    clearErrors();
    var evaluated = collect();
    render();
    if (wizard && sendButton.hidden) {
      // Enter in a text box before the last screen: the same as Next.
      next();
      return;
    }
    var answers = evaluated.answers;
    // The server stays the judge; these are the problems it would report.
    var bad = showProblems(evaluated.problems, null);
    if (bad.length) {
      var section = bad[0].closest("[data-section]");
      if (wizard && section && section !== sections[screen]) {
        screen = sections.indexOf(section);
        render();
      }
      pointAt(bad);
      return;
    }
    forget();
    var q = queue();
    q.push({ submission_id: uuid(), locality: locality, answers: answers, channel: "kiosk" });
    saveQueue(q);
    flush();
    blank();
    screen = 0;
    collect();
    render();
    form.hidden = true;
    if (progress) { progress.hidden = true; }
    if (thanks) { thanks.hidden = false; thanks.focus && thanks.focus(); }
    window.scrollTo(0, 0);
    clearTimeout(idleTimer);
    idleTimer = setTimeout(reset, 6000);
  });

  // The service worker: from this file, never inline (CSP script-src 'self').
  // Once it runs, it is asked to keep the page in each language too.
  if ("serviceWorker" in navigator && form.dataset.worker) {
    navigator.serviceWorker.register(form.dataset.worker).catch(function () { return null; });
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) {
        // This page as opened (a restart opens it again), and each language.
        reg.active.postMessage({
          pages: [window.location.pathname + window.location.search].concat(
            languages().map(function (c) { return window.location.pathname + "?lang=" + c; }))
        });
      }
    });
  }

  window.addEventListener("online", flush);
  setInterval(flush, 10000);
  collect();
  restore();
  render();
  saveQueue(queue());
  flush();
  bump();
})();
