// The subscriber list: "select all on this page". The list works without it.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("select-all")) {
      return;
    }
    var table = box.closest("table");
    table.querySelectorAll('input[name="ids"]').forEach(function (item) {
      item.checked = box.checked;
    });
  });
})();
