// newsdiff report: small, optional enhancements. Every page is complete without this.
(function () {
  "use strict";

  // A text filter above each long table.
  function addFilter(table) {
    var rows = Array.prototype.slice.call(table.tBodies[0] ? table.tBodies[0].rows : []);
    if (rows.length < 6) { return; }
    var box = document.createElement("p");
    box.className = "filter";
    var label = document.createElement("label");
    label.textContent = "Filter rows: ";
    var input = document.createElement("input");
    input.type = "search";
    input.setAttribute("aria-label", "Filter rows of this table");
    label.appendChild(input);
    box.appendChild(label);
    var wrap = table.parentNode.classList.contains("table-wrap") ? table.parentNode : table;
    wrap.parentNode.insertBefore(box, wrap);
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      rows.forEach(function (row) {
        var isYear = row.classList.contains("year");
        var show = q === "" ? true : (!isYear && row.textContent.toLowerCase().indexOf(q) !== -1);
        row.hidden = !show;
      });
    });
  }

  // Print every "compare with the first version" panel, not only the open ones.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });

  document.querySelectorAll("table.filterable").forEach(addFilter);
})();
