// The only script of the pages (the content security policy forbids inline ones). Every page
// works without it: the filter form and the day's selection are plain GET forms.
// - print sheets: the print button;
// - the visit list: filters applied in place (no reload; the URL and the export and print links
//   follow them), the day's selection kept in this browser (localStorage) per list and run,
//   village groups folded on a phone.
(function () {
  "use strict";

  function each(nodes, fn) { Array.prototype.forEach.call(nodes, fn); }

  function store(key, value) {
    try {
      if (value === undefined) { return JSON.parse(window.localStorage.getItem(key) || "[]"); }
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage off: the selection lives in the form only */ }
    return [];
  }

  function fieldList(form) {
    var key = "outreach.today." + form.getAttribute("data-list");
    var today = document.getElementById("today");
    var rows = document.querySelectorAll("tr[data-testid=list-row]");
    var groups = document.querySelectorAll("details.village");
    var shown = document.getElementById("shown-count");
    var counter = document.getElementById("today-count");
    var none = document.getElementById("none-shown");
    var shownTemplate = shown ? shown.getAttribute("data-template") : null;
    each(document.querySelectorAll("[data-js-only]"), function (el) { el.hidden = false; });

    function boxes() { return today ? today.querySelectorAll("input[name=ref]") : []; }

    function selected() {
      var out = [];
      each(boxes(), function (box) { if (box.checked) { out.push(box.value); } });
      return out;
    }

    function query(withRefs) {
      var parts = [];
      ["village", "band", "gap"].forEach(function (name) {
        var value = form.elements[name].value;
        if (value) { parts.push(name + "=" + encodeURIComponent(value)); }
      });
      if (form.elements.pending.checked) { parts.push("pending=1"); }
      if (withRefs) { selected().forEach(function (ref) { parts.push("ref=" + ref); }); }
      return parts.length ? "?" + parts.join("&") : "";
    }

    function apply() {
      var v = form.elements.village.value, b = form.elements.band.value;
      var g = form.elements.gap.value, pending = form.elements.pending.checked;
      var onlyToday = document.getElementById("today-only").checked;
      var total = 0, visible = 0, visited = 0;
      each(rows, function (row) {
        total += 1;
        var box = row.querySelector("input[name=ref]");
        var ok = (!v || row.getAttribute("data-village") === v) &&
          (!b || row.getAttribute("data-band") === b) &&
          (!g || (" " + row.getAttribute("data-gaps") + " ").indexOf(" " + g + " ") >= 0) &&
          (!pending || row.getAttribute("data-visited") !== "1") &&
          (!onlyToday || (box && box.checked));
        row.hidden = !ok;
        if (ok) { visible += 1; visited += row.getAttribute("data-visited") === "1" ? 1 : 0; }
      });
      each(groups, function (group) {
        var left = group.querySelectorAll("tr[data-testid=list-row]:not([hidden])").length;
        group.hidden = left === 0;
        var count = group.querySelector(".count");
        if (count) { count.setAttribute("data-shown", String(left)); }
      });
      if (shown && shownTemplate) {
        shown.textContent = shownTemplate.replace("{n}", String(visible))
          .replace("{total}", String(total)).replace("{visited}", String(visited));
      }
      if (none) { none.hidden = visible > 0; }
      var q = query(false);
      each(document.querySelectorAll("a[data-testid=export-csv], a[data-testid=export-xlsx], " +
        "a[data-testid=print]"), function (a) {
        a.setAttribute("href", a.getAttribute("href").split("?")[0] + q);
      });
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", form.getAttribute("action") + q);
      }
    }

    function count() {
      var n = selected().length;
      if (counter) {
        var template = counter.getAttribute("data-template");
        counter.textContent = n ? template.replace("{n}", String(n)) : counter.getAttribute("data-hint");
      }
      each(today.querySelectorAll("button[type=submit]"), function (button) { button.disabled = n === 0; });
      store(key, selected());
    }

    if (counter) { counter.setAttribute("data-hint", counter.textContent); }
    if (today) {
      var kept = store(key);
      if (!selected().length && kept.length) {
        each(boxes(), function (box) { box.checked = kept.indexOf(box.value) >= 0; });
      }
      today.addEventListener("change", function () { count(); apply(); });
      var clear = document.getElementById("today-clear");
      if (clear) {
        clear.addEventListener("click", function () {
          each(boxes(), function (box) { box.checked = false; });
          count(); apply();
        });
      }
      count();
    }
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    form.addEventListener("change", apply);
    apply();
    if (window.matchMedia && window.matchMedia("(max-width: 720px)").matches) {
      each(groups, function (group, i) { if (i > 0) { group.open = false; } });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("print-button");
    if (button) {
      button.addEventListener("click", function () { window.print(); });
    }
    var form = document.getElementById("list-filter");
    if (form) { fieldList(form); }
  });
}());
