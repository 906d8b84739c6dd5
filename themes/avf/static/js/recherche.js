// Search pages: Pagefind's own interface on the site's index. On the portal, every city's
// index is merged in (Pagefind's multisite search) and the "ville" filter narrows results.
(function () {
  "use strict";
  var element = document.getElementById("recherche");
  if (!element || typeof PagefindUI === "undefined") return;
  var cities = JSON.parse(element.getAttribute("data-recherche-villes") || "[]");
  new PagefindUI({
    element: "#recherche",
    // Relative to this page: the host that served it (a city's own domain or its
    // sub-path on the network's host) serves its index too.
    bundlePath: new URL(element.getAttribute("data-recherche-index"), document.baseURI).href,
    mergeIndex: cities.map(function (url) { return { bundlePath: url + "pagefind/" }; }),
    showSubResults: true,
    autofocus: true,
  });
  var query = new URLSearchParams(window.location.search).get("q");
  var field = element.querySelector("input");
  // Pagefind names its field by a title only: the page's visible heading is its label.
  if (field) field.setAttribute("aria-labelledby", "recherche-titre");
  if (query && field) {
    field.value = query;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }
})();
