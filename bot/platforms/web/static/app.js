// The web workspace's only script: forms open as modal dialogs, and new posts appear without reloading
// (server-sent events from /events). Every page works without it: forms are plain HTML posts.
(function () {
  "use strict";

  var dialog = document.getElementById("form-dialog");
  if (dialog && typeof dialog.showModal === "function") {
    dialog.removeAttribute("open"); // shown as a modal instead: focus stays inside, Escape closes it
    dialog.showModal();
    var first = dialog.querySelector("[aria-invalid=true], input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function toLatest() {
    var posts = document.getElementById("posts");
    if (!posts || dialog) return;
    posts.scrollTop = posts.scrollHeight; // the newest post, as in any chat, also once its images have loaded
    posts.querySelectorAll("img").forEach(function (img) {
      if (!img.complete) img.addEventListener("load", function () { posts.scrollTop = posts.scrollHeight; });
    });
  }
  toLatest();

  if (!window.EventSource || !document.getElementById("posts")) return;
  var pending = null;
  var busy = false;

  function refresh() {
    if (busy) { pending = setTimeout(refresh, 200); return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var page = new DOMParser().parseFromString(text, "text/html");
        ["posts", "sidebar", "clock"].forEach(function (id) {
          var shown = document.getElementById(id);
          var fresh = page.getElementById(id);
          if (shown && fresh) shown.replaceWith(fresh);
        });
        document.body.setAttribute("data-refreshed", String(Number(document.body.getAttribute("data-refreshed") || 0) + 1));
        toLatest();
      })
      .catch(function () { /* the next event tries again */ })
      .finally(function () { busy = false; });
  }

  function soon() {
    clearTimeout(pending);
    pending = setTimeout(refresh, 150);
  }

  var source = new EventSource("/events");
  source.addEventListener("post", soon);
  source.addEventListener("clock", soon);
  source.addEventListener("open", function () { document.body.setAttribute("data-live", "yes"); });
})();
