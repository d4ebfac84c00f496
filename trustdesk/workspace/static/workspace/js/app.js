/* Trustdesk workspace: small progressive enhancements. No inline handlers (strict CSP). */
(function () {
  "use strict";

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // "/" focuses the search box; j/k (or arrows) move through a ticket list; Enter opens.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(document.activeElement)) return;
    if (event.key === "/") {
      var search = document.getElementById("global-search");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    var list = document.querySelector("[data-keynav]");
    if (!list) return;
    var links = Array.prototype.slice.call(list.querySelectorAll("a.ticket-link"));
    if (!links.length) return;
    var index = links.indexOf(document.activeElement);
    var next = null;
    if (event.key === "j" || (event.key === "ArrowDown" && index >= 0)) {
      next = links[Math.min(index + 1, links.length - 1)];
    } else if (event.key === "k" || (event.key === "ArrowUp" && index >= 0)) {
      next = links[Math.max(index - 1, 0)];
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });

  // Ctrl/Cmd+Enter submits the composer.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!target || !target.hasAttribute || !target.hasAttribute("data-submit-shortcut")) return;
    var form = target.closest("form");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // Confirm destructive status changes (closing is final), with htmx and without it.
  function needsConfirm(form) {
    if (!form || !form.hasAttribute("data-confirm-status")) return null;
    var select = form.querySelector("select[name='status']");
    if (select && select.value === form.getAttribute("data-confirm-status")) {
      return form.getAttribute("data-confirm-message");
    }
    return null;
  }

  document.addEventListener("htmx:confirm", function (event) {
    var question = needsConfirm(event.detail.elt);
    if (!question) return;
    event.preventDefault();
    if (window.confirm(question)) event.detail.issueRequest(true);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("hx-post") && window.htmx) return; // htmx:confirm handles it
    var question = needsConfirm(form);
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Success notices fade away after a while; errors stay until the next action.
  document.addEventListener("htmx:afterSettle", function () {
    var notices = document.querySelectorAll("#flash .alert-success");
    if (!notices.length) return;
    window.setTimeout(function () {
      notices.forEach(function (n) { if (n.parentNode) n.parentNode.removeChild(n); });
    }, 6000);
  });

  // After htmx adds a message to the timeline, bring it into view.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "timeline" && target.lastElementChild) {
      target.lastElementChild.scrollIntoView({ block: "nearest" });
    }
  });
})();
