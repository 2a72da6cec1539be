// The student table: filter by name, status and outcome; sort by a click on a header.
// Without JavaScript the table is complete, in the order of the class folder.
(function () {
  "use strict";
  var table = document.getElementById("student-table");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var name = document.getElementById("filter-name");
  var status = document.getElementById("filter-status");
  var outcome = document.getElementById("filter-outcome");
  var shown = document.getElementById("shown");
  document.getElementById("controls").hidden = false;

  function keep(row) {
    var q = name.value.trim().toLowerCase();
    if (q && row.dataset.name.indexOf(q) < 0) return false;
    if (status.value && row.dataset.status !== status.value) return false;
    var o = outcome.value;
    if (!o) return true;
    var outcomes = row.dataset.outcomes.split(" ");
    if (o === "all-passed") return outcomes.every(function (x) { return x === "passed"; });
    return outcomes.indexOf(o) >= 0;
  }

  function filter() {
    var n = 0;
    rows.forEach(function (row) {
      var ok = keep(row);
      row.hidden = !ok;
      if (ok) n += 1;
    });
    shown.textContent = n + " of " + rows.length + " shown";
  }

  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th, col) {
    th.tabIndex = 0;
    th.classList.add("sortable");
    function sort() {
      var up = th.getAttribute("aria-sort") !== "ascending";
      var num = th.dataset.type === "num";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var keyed = rows.map(function (row, i) {
        var v = row.cells[col].dataset.sort;
        return { row: row, key: num ? parseFloat(v) : v, i: i };
      });
      keyed.sort(function (a, b) {
        var c = a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i;
        return up ? c : -c;
      });
      var frag = document.createDocumentFragment();
      keyed.forEach(function (k) { frag.appendChild(k.row); });
      body.appendChild(frag);
      rows = keyed.map(function (k) { return k.row; });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
  });
  [name, status, outcome].forEach(function (el) { el.addEventListener("input", filter); });
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
}());
