// The survey's locality list, searchable as one types (progressive enhancement: without
// this script the list is a plain <select>). Diacritics are optional: "ba dinh" finds
// "Ba Đình". The list is rebuilt from a copy of its options, so every browser hides the
// ones that do not match (some ignore `hidden` on <option>).
(function () {
  "use strict";
  var select = document.getElementById("locality");
  if (!select || !select.dataset.search) { return; }
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d").toLowerCase().replace(/\s+/g, " ").trim();
  }
  var first = select.options[0] ? select.options[0].cloneNode(true) : null;
  var groups = [];
  Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (g) {
    groups.push({
      label: g.label,
      key: fold(g.label),
      options: Array.prototype.map.call(g.querySelectorAll("option"), function (o) {
        return { node: o.cloneNode(true), key: fold(o.textContent) };
      })
    });
  });
  var input = document.createElement("input");
  input.type = "search";
  input.id = "locality-search";
  input.className = "search";
  input.setAttribute("autocomplete", "off");
  input.setAttribute("aria-controls", "locality");
  input.placeholder = select.dataset.search;
  input.setAttribute("aria-label", select.dataset.search);
  select.parentNode.insertBefore(input, select);
  input.addEventListener("input", function () {
    var words = fold(input.value).split(" ").filter(Boolean);
    var chosen = select.value;
    var shown = [];
    while (select.firstChild) { select.removeChild(select.firstChild); }
    if (first) { select.appendChild(first); }
    groups.forEach(function (g) {
      var group = document.createElement("optgroup");
      group.label = g.label;
      g.options.forEach(function (o) {
        var key = o.key + " " + g.key;
        if (words.every(function (w) { return key.indexOf(w) >= 0; })) {
          group.appendChild(o.node);
          shown.push(o.node);
        }
      });
      if (group.childNodes.length) { select.appendChild(group); }
    });
    if (shown.length === 1) {
      select.value = shown[0].value;
    } else {
      select.value = shown.some(function (o) { return o.value === chosen; }) ? chosen : "";
    }
  });
})();
