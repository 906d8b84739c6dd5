// A post's comments: they live in the service, for the city's members only. Without this
// script (or signed out) the section's link stays; with it, the thread replaces the section
// (avf/service/comments.py). A file, not an inline script: the sites' Content-Security-Policy
// allows scripts from 'self' only (avf/service/static_headers.py).
(function () {
  "use strict";
  var box = document.getElementById("commentaires");
  if (!box || !window.fetch || !window.URL) return;
  var thread = new URL(box.getAttribute("data-avf-comments"), document.baseURI);
  // A city on its own domain: the members' area is on the network's host, whose session
  // this page cannot use (and the policy's connect-src is the site's own): the link stays.
  if (thread.origin !== window.location.origin) return;
  fetch(thread.href + "?fragment=1",
        { credentials: "same-origin", redirect: "manual" })
    .then(function (answer) { return answer.ok ? answer.text() : null; })
    .then(function (html) { if (html) { box.outerHTML = html; } })
    .catch(function () {});
})();
