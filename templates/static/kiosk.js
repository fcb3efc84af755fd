// Hailong kiosk: progressive enhancement of the survey form at /k/{token}.
// - shows/hides conditional questions as answers change;
// - sends answers as JSON with a client-generated submission id, queueing them
//   in localStorage while the network is down and retrying when it returns
//   (the server ignores a repeated id, so a retry never creates a duplicate);
// - returns to a blank form after the thank-you or after an idle period,
//   so the next person never sees the previous person's answers.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form || !form.dataset.endpoint) {
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

  function real(v) {
    return v !== undefined && v !== "dk" && v !== "na";
  }

  function holds(cond, answers) {
    var a = answers[cond.question];
    if (!real(a)) { return false; }
    var eq = Array.isArray(a) ? a.indexOf(cond.value) >= 0 : a === cond.value;
    switch (cond.op) {
      case "answered": return true;
      case "eq": return eq;
      case "ne": return !eq;
      case "gte": return typeof a === "number" && a >= cond.value;
      case "lte": return typeof a === "number" && a <= cond.value;
    }
    return false;
  }

  // Answers of the visible questions, in order; hides questions whose
  // condition does not hold.
  function collect() {
    var answers = {};
    questions().forEach(function (el) {
      var cond = el.dataset.cond ? JSON.parse(el.dataset.cond) : null;
      var visible = !cond || holds(cond, answers);
      el.hidden = !visible;
      if (visible) {
        var v = valueOf(el);
        if (v !== undefined) { answers[el.dataset.q] = v; }
      }
    });
    return answers;
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
    var answers = collect();
    var missing = questions().filter(function (el) {
      return !el.hidden && el.hasAttribute("data-required") && answers[el.dataset.q] === undefined;
    });
    if (missing.length) {
      missing.forEach(function (el) { showError(el, requiredMsg); });
      missing[0].scrollIntoView();
      var first = missing[0].querySelector("input, textarea, select");
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
