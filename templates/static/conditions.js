// Hailong condition language, evaluated in the browser (kiosk) the same way
// the server does (src/domain/condition.rs, src/domain/answers.rs); the test
// vectors in tests/fixtures/conditions/vectors.json pin both.
//
// A condition is a leaf {question, op, value?, fn?} or {all: [..]},
// {any: [..]}, {not: ..}. A leaf on a question with no answer (unanswered,
// hidden, invalid) is false whatever its operator; so is a leaf on "dk"/"na",
// except eq/selected with the literal "dk"/"na" (true for that answer) and ne
// with such a literal (true for any other answer).
//
// No DOM here: kiosk.js uses it in the page, tests load it under Node.
(function (root) {
  "use strict";

  var SHORT_TEXT_MAX = 500;
  var LONG_TEXT_MAX = 5000;

  function chars(s) {
    return Array.from(s).length;
  }

  function isInt(v) {
    return typeof v === "number" && Number.isInteger(v);
  }

  // A checked answer {t, v} ("int", "choice", "choices", "bool", "text",
  // "dk", "na") from a raw JSON value, or null when the server would refuse
  // its type, bounds or options (cascading filters and constraints apart).
  function parseValue(q, raw) {
    if (raw === undefined) { return null; }
    var text = q.type === "short_text" || q.type === "long_text";
    if (raw === "dk") {
      if (q.dont_know) { return { t: "dk" }; }
      if (!text) { return null; }
    }
    if (raw === "na") {
      if (q.not_applicable) { return { t: "na" }; }
      if (!text) { return null; }
    }
    var values = (q.options || []).map(function (o) { return o.value; });
    switch (q.type) {
      case "scale":
      case "number":
        if (!isInt(raw)) { return null; }
        if (q.min !== undefined && q.min !== null && raw < q.min) { return null; }
        if (q.max !== undefined && q.max !== null && raw > q.max) { return null; }
        return { t: "int", v: raw };
      case "single_choice":
        return typeof raw === "string" && values.indexOf(raw) >= 0 ? { t: "choice", v: raw } : null;
      case "multiple_choice": {
        if (!Array.isArray(raw) || raw.length === 0) { return null; }
        var seen = {};
        for (var i = 0; i < raw.length; i++) {
          var s = raw[i];
          if (typeof s !== "string" || values.indexOf(s) < 0 || seen[s]) { return null; }
          seen[s] = true;
        }
        return { t: "choices", v: values.filter(function (v) { return seen[v]; }) };
      }
      case "yes_no":
        return typeof raw === "boolean" ? { t: "bool", v: raw } : null;
      default: {
        if (typeof raw !== "string" || raw.trim() === "" || raw.indexOf("\u0000") >= 0) { return null; }
        var max = q.type === "short_text" ? SHORT_TEXT_MAX : LONG_TEXT_MAX;
        return chars(raw) > max ? null : { t: "text", v: raw };
      }
    }
  }

  function numberOf(v) {
    if (typeof v === "number") { return isFinite(v) ? v : null; }
    if (typeof v === "string" && v.trim() !== "") {
      var n = Number(v.trim());
      return isFinite(n) ? n : null;
    }
    return null;
  }

  function stringOf(v) {
    if (typeof v === "string") { return v; }
    if (typeof v === "number") { return String(v); }
    return null;
  }

  function equal(a, lit) {
    if (lit === undefined || lit === null) { return false; }
    switch (a.t) {
      case "int": { var n = numberOf(lit); return n !== null && n === a.v; }
      case "choice":
      case "text": { var s = stringOf(lit); return s !== null && s === a.v; }
      case "choices": { var c = stringOf(lit); return c !== null && a.v.indexOf(c) >= 0; }
      case "bool": return typeof lit === "boolean" && lit === a.v;
    }
    return false;
  }

  function compareNumbers(op, a, v) {
    if (a === null || v === null) { return false; }
    switch (op) {
      case "eq": return a === v;
      case "ne": return a !== v;
      case "gt": return a > v;
      case "gte": return a >= v;
      case "lt": return a < v;
      case "lte": return a <= v;
    }
    return false;
  }

  function leafHolds(c, a) {
    if (!a) { return false; }
    var lit = c.value;
    if (a.t === "dk" || a.t === "na") {
      var named = lit === "dk" || lit === "na" ? lit : null;
      if (named === null || c.fn) { return false; }
      if (c.op === "eq" || c.op === "selected") { return named === a.t; }
      if (c.op === "ne") { return named !== a.t; }
      return false;
    }
    if (c.fn) {
      var n = null;
      if (c.fn === "count_selected") {
        if (a.t === "choices") { n = a.v.length; } else if (a.t === "choice") { n = 1; }
      } else if (c.fn === "string_length") {
        if (a.t === "text") { n = chars(a.v); } else if (a.t === "int") { n = chars(String(a.v)); }
      }
      return n !== null && compareNumbers(c.op, n, numberOf(lit));
    }
    switch (c.op) {
      case "answered": return true;
      case "eq": return equal(a, lit);
      case "ne": return !equal(a, lit);
      case "gt":
      case "gte":
      case "lt":
      case "lte": {
        var x = a.t === "int" ? a.v : a.t === "choice" ? numberOf(a.v) : null;
        return compareNumbers(c.op, x, numberOf(lit));
      }
      case "selected": {
        var s = stringOf(lit);
        if (s === null) { return false; }
        if (a.t === "choices") { return a.v.indexOf(s) >= 0; }
        return a.t === "choice" && a.v === s;
      }
      case "matches": {
        var subject = a.t === "text" ? a.v : a.t === "int" ? String(a.v) : null;
        if (subject === null || typeof lit !== "string") { return false; }
        try { return new RegExp(lit, "u").test(subject); } catch (e) { return false; }
      }
    }
    return false;
  }

  // Whether condition `c` holds; `lookup(code)` gives the checked answer or null.
  function holds(c, lookup) {
    if (c.all) { return c.all.every(function (x) { return holds(x, lookup); }); }
    if (c.any) { return c.any.some(function (x) { return holds(x, lookup); }); }
    if (c.not) { return !holds(c.not, lookup); }
    return leafHolds(c, lookup(c.question));
  }

  function lookupIn(answers) {
    return function (code) { return Object.prototype.hasOwnProperty.call(answers, code) ? answers[code] : null; };
  }

  function optionOffered(q, o, answers) {
    var f = q.choice_filter;
    if (!f) { return true; }
    var own = o.filters ? o.filters[f.column] : undefined;
    if (own === undefined) { return false; }
    var a = lookupIn(answers)(f.question);
    if (!a) { return false; }
    var op = f.op || "eq";
    switch (a.t) {
      case "choices": return op === "selected" ? a.v.indexOf(own) >= 0 : a.v.length === 1 && a.v[0] === own;
      case "choice":
      case "text": return a.v === own;
      case "int": return op === "eq" && String(a.v) === own;
      case "bool": return op === "eq" && String(a.v) === own;
    }
    return false;
  }

  function sameAnswer(x, y) {
    return JSON.stringify(x) === JSON.stringify(y);
  }

  // Checks a present raw answer of a shown question: returns {answer} or
  // {problem} with the server's problem code.
  function checkAnswer(q, raw, answers) {
    var a = parseValue(q, raw);
    if (!a) { return { problem: "invalid" }; }
    if (q.read_only) {
      var d = q.default === undefined ? null : parseValue(q, q.default);
      return d && sameAnswer(d, a) ? { answer: a } : { problem: "read_only_changed" };
    }
    var chosen = a.t === "choice" ? [a.v] : a.t === "choices" ? a.v : [];
    for (var i = 0; i < chosen.length; i++) {
      var o = (q.options || []).filter(function (x) { return x.value === chosen[i]; })[0];
      if (!o || !optionOffered(q, o, answers)) { return { problem: "option_not_offered" }; }
    }
    if (q.constraint && a.t !== "dk" && a.t !== "na") {
      var look = lookupIn(answers);
      var ok = holds(q.constraint, function (code) { return code === "." ? a : look(code); });
      if (!ok) { return { problem: "constraint_failed" }; }
    }
    return { answer: a };
  }

  // Walks a definition (the questionnaire JSON, or the subset the kiosk page
  // carries) over raw answers {code: json} in order, as the server does.
  // Returns the shown sections and questions, the offered options of shown
  // choice questions, and the problems {question, code} the server would
  // report (its type problems reported as "invalid").
  function evaluate(def, raw) {
    var answers = {};
    var out = { sections: [], questions: [], offered: {}, problems: [] };
    (def.sections || []).forEach(function (s) {
      var sectionShown = !s.condition || holds(s.condition, lookupIn(answers));
      if (sectionShown) { out.sections.push(s.code); }
      (s.questions || []).forEach(function (q) {
        var shown = sectionShown && (!q.condition || holds(q.condition, lookupIn(answers)));
        var has = Object.prototype.hasOwnProperty.call(raw, q.code) && raw[q.code] !== undefined;
        if (!shown) {
          if (has) { out.problems.push({ question: q.code, code: "answer_to_hidden_question" }); }
          return;
        }
        out.questions.push(q.code);
        if (q.type === "single_choice" || q.type === "multiple_choice") {
          out.offered[q.code] = (q.options || []).filter(function (o) {
            return optionOffered(q, o, answers);
          }).map(function (o) { return o.value; });
        }
        if (has) {
          var r = checkAnswer(q, raw[q.code], answers);
          if (r.answer) { answers[q.code] = r.answer; } else { out.problems.push({ question: q.code, code: r.problem }); }
          return;
        }
        if (q.read_only) {
          var d = q.default === undefined ? null : parseValue(q, q.default);
          if (d) { answers[q.code] = d; return; }
        }
        var required = !q.read_only && (q.required || (q.required_if && holds(q.required_if, lookupIn(answers))));
        if (required) { out.problems.push({ question: q.code, code: "answer_required" }); }
      });
    });
    return out;
  }

  var api = {
    parseValue: parseValue,
    holds: holds,
    optionOffered: optionOffered,
    checkAnswer: checkAnswer,
    evaluate: evaluate
  };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.HailongConditions = api;
  }
})(this);
