// Names for the controls that Django's admin scripts build without one (axe: "label", "aria-prohibited-attr").
// - Select2 (autocomplete fields): its search box and selection get the name of the select they stand for.
// - SelectFilter2 (filter_horizontal): its search icon carries an aria-label, allowed only with a role.
// Loaded on every admin page; a MutationObserver catches what those scripts add later (inline rows, reopened
// dropdowns). No user-facing text of its own: names come from the page's labels.
(function () {
  "use strict";

  function nameOf(select) {
    if (select.getAttribute("aria-label")) return select.getAttribute("aria-label");
    if (select.id) {
      const label = document.querySelector('label[for="' + CSS.escape(select.id) + '"]');
      if (label) return label.textContent.replace(/[:\s]+$/, "").trim();
    }
    return "";
  }

  function nameSelect2(container) {
    const select = container.previousElementSibling;
    if (!select || select.tagName !== "SELECT") return;
    const name = nameOf(select);
    if (!name) return;
    container.querySelectorAll(".select2-search__field, .select2-selection").forEach((control) => {
      if (!control.getAttribute("aria-label") && !control.getAttribute("aria-labelledby")) {
        control.setAttribute("aria-label", name);
      }
    });
    const field = container.querySelector(".select2-search__field");
    if (field && !field.getAttribute("aria-label")) field.setAttribute("aria-label", name);
  }

  function fix(root) {
    root.querySelectorAll("span.select2-container").forEach(nameSelect2);
    root.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach((icon) => icon.setAttribute("role", "img"));
  }

  function start() {
    fix(document);
    new MutationObserver((mutations) => {
      for (const mutation of mutations) {
        for (const node of mutation.addedNodes) {
          if (node.nodeType !== Node.ELEMENT_NODE) continue;
          const container = node.closest("span.select2-container");
          if (container) nameSelect2(container);
          fix(node);
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
