/* The ☰ (primary sidebar) and "Contents" (page table of contents) buttons, made to work again.
 *
 * pydata-sphinx-theme 0.17 wires its sidebar dialogs to the FIRST element with class primary-toggle
 * (and secondary-toggle) in the page. sphinx-book-theme renders a second one in the article header,
 * the only one a reader can see, and it never gets a listener: tapping it does nothing at any width
 * (pydata-sphinx-theme #2451, sphinx-book-theme #988). This script takes every click on either kind of
 * button before the themes' own handlers see it, so a page never opens a dialog twice:
 *
 * - on a wide screen (992 px and up, where the sidebar sits beside the text) ☰ hides or shows it;
 * - on a narrower screen ☰ opens the sidebar, with the book's table of contents, as a modal dialog;
 * - "Contents" opens the page's own table of contents as a modal dialog at any width where the
 *   button is shown.
 *
 * A dialog closes with Escape, with a tap outside it, or when a link in it is followed; its content
 * then goes back where it came from. Remove this file once both themes fix the bug upstream.
 */
(function () {
  "use strict";

  var WIDE = "(min-width: 992px)";
  var PANELS = {
    primary: { sidebar: "pst-primary-sidebar", dialog: "pst-primary-sidebar-modal" },
    secondary: { sidebar: "pst-secondary-sidebar", dialog: "pst-secondary-sidebar-modal" },
  };

  function move(from, to) {
    Array.prototype.slice.call(from.childNodes).forEach(function (child) { to.appendChild(child); });
  }

  function close(dialog) {
    if (dialog.open) {
      dialog.close();
    }
  }

  function restore(dialog, sidebar) {
    // The theme's own close handler may have moved the content back already.
    if (dialog.childNodes.length) {
      move(dialog, sidebar);
    }
    (dialog.spmMovedClasses || []).forEach(function (name) {
      dialog.classList.remove(name);
      sidebar.classList.add(name);
    });
    dialog.spmMovedClasses = [];
    document.querySelectorAll(".primary-toggle, .secondary-toggle").forEach(function (button) {
      button.setAttribute("aria-expanded", "false");
    });
    if (dialog.spmOpener && dialog.spmOpener.focus) {
      dialog.spmOpener.focus();
    }
  }

  function prepare(dialog, sidebar) {
    if (dialog.spmReady) {
      return;
    }
    dialog.spmReady = true;
    dialog.addEventListener("close", function () { restore(dialog, sidebar); });
    dialog.addEventListener("click", function (event) {
      // A click on the dialog element itself is a click on the backdrop, outside its content.
      if (event.target === dialog) {
        close(dialog);
      } else if (event.target.closest && event.target.closest("a[href]")) {
        // A link to a section of this page would otherwise scroll behind the still-open dialog.
        close(dialog);
      }
    });
  }

  function open(kind, button) {
    var ids = PANELS[kind];
    var sidebar = document.getElementById(ids.sidebar);
    var dialog = document.getElementById(ids.dialog);
    if (!sidebar || !dialog || dialog.open) {
      return false;
    }
    prepare(dialog, sidebar);
    dialog.spmOpener = button;
    dialog.spmMovedClasses = Array.prototype.slice.call(sidebar.classList);
    dialog.spmMovedClasses.forEach(function (name) {
      sidebar.classList.remove(name);
      dialog.classList.add(name);
    });
    move(sidebar, dialog);
    dialog.showModal();
    button.setAttribute("aria-expanded", "true");
    return true;
  }

  function toggleWide(button) {
    var sidebar = document.getElementById(PANELS.primary.sidebar);
    if (!sidebar) {
      return false;
    }
    var hidden = sidebar.classList.toggle("pst-sidebar-hidden");
    button.setAttribute("aria-expanded", hidden ? "false" : "true");
    return true;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".primary-toggle, .secondary-toggle") : null;
    if (!button) {
      return;
    }
    var kind = button.classList.contains("primary-toggle") ? "primary" : "secondary";
    var handled = kind === "primary" && window.matchMedia(WIDE).matches ? toggleWide(button) : open(kind, button);
    if (handled) {
      // Captured on the document, before the button's own listeners: the themes' handlers never run.
      event.preventDefault();
      event.stopPropagation();
      if (button.blur && kind === "primary" && window.matchMedia(WIDE).matches) {
        button.blur();
      }
    }
  }, true);
})();
