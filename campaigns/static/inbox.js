// Keyboard shortcuts for the inbox and the conversation page (j/k, Enter, x, r, e, s, n, /, u, ?).
(function () {
  "use strict";

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".conversation-row")); }

  function current() { return document.querySelector(".conversation-row.selected"); }

  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); });
    if (row) {
      row.classList.add("selected");
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var index = all.indexOf(current());
    select(all[Math.max(0, Math.min(all.length - 1, index + step))] || all[0]);
  }

  function focus(id) {
    var element = document.getElementById(id);
    if (element) { element.focus(); element.scrollIntoView({ block: "center" }); return true; }
    return false;
  }

  function openSelected(hash) {
    var row = current();
    if (row) { window.location.href = row.dataset.href + (hash || ""); return true; }
    return false;
  }

  var actions = {
    "j": function () { move(1); },
    "k": function () { move(-1); },
    "Enter": function () { openSelected(""); },
    "x": function () { var row = current(); if (row) { var box = row.querySelector("input[type=checkbox]"); box.checked = !box.checked; } },
    "r": function () { focus("reply-body") || openSelected("#reply"); },
    "e": function () { focus("outcome-select") || openSelected("#done-form"); },
    "s": function () { focus("snooze-until") || openSelected("#snooze-form"); },
    "n": function () { focus("note-body") || openSelected("#note-body"); },
    "/": function () { focus("inbox-search"); },
    "u": function () { var back = document.querySelector("[data-shortcut=u]"); if (back) { window.location.href = back.href; } },
    "z": function () { var undo = document.querySelector("[data-shortcut=z]"); if (undo) { undo.click(); } },
    "?": function () { var help = document.getElementById("shortcuts"); if (help && help.showModal) { help.showModal(); } }
  };

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var action = actions[event.key];
    if (action) { event.preventDefault(); action(); }
  });

  document.addEventListener("click", function (event) {
    var all = document.getElementById("select-all");
    if (event.target === all) {
      rows().forEach(function (r) { r.querySelector("input[type=checkbox]").checked = all.checked; });
    }
  });

  // Open the form a shortcut pointed at from the list (#done-form, #snooze-form...).
  document.addEventListener("DOMContentLoaded", function () {
    var map = { "#reply": "reply-body", "#done-form": "outcome-select", "#snooze-form": "snooze-until", "#note-body": "note-body" };
    if (map[window.location.hash]) { focus(map[window.location.hash]); }
    if (rows().length && !current()) { select(rows()[0]); }
  });
})();
