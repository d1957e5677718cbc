/* Load the book's search index when a reader starts a search, not on every page.
 *
 * The theme puts the whole index (searchindex.js, about 130 kB) into every page's head so that its
 * search dialog works anywhere; our layout leaves that tag out. Sphinx's search keeps a query that
 * arrives before the index and runs it as soon as the index loads, so searching works the same.
 */
(function () {
  "use strict";
  var requested = false;

  function load() {
    if (requested || (window.Search && window.Search.hasIndex && window.Search.hasIndex())) {
      return;
    }
    requested = true;
    var script = document.createElement("script");
    script.src = (document.documentElement.dataset.content_root || "") + "searchindex.js";
    document.head.appendChild(script);
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.closest && event.target.closest("#pst-search-dialog, form.bd-search, .bd-search")) {
      load();
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".search-button, .search-button-field, .search-button__button")) {
      load();
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && (event.key === "k" || event.key === "K")) {
      load();
    }
  }, true);
})();
