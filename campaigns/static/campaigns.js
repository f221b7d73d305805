// Campaign editor: clicking an error puts the cursor on its line in the field it names.
(function () {
  "use strict";

  var FIELDS = { body: "body_mjml", text: "body_text", subject: "subject" };

  function jumpTo(field, line) {
    var lines = field.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i += 1) {
      start += lines[i].length + 1;
    }
    var end = start + (lines[line - 1] || "").length;
    field.focus();
    field.setSelectionRange(start, end);
    if (field.tagName === "TEXTAREA") {
      var lineHeight = parseFloat(window.getComputedStyle(field).lineHeight) || 18;
      field.scrollTop = Math.max(0, (line - 3) * lineHeight);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.jump[data-line]");
    if (!button) {
      return;
    }
    var field = document.getElementById(FIELDS[button.dataset.part] || "body_mjml");
    if (field) {
      jumpTo(field, parseInt(button.dataset.line, 10));
    }
  });
})();
