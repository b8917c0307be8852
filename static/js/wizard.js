// The wizard's only script: focus on step change, and the Xero pop-up with its fallback.
(function () {
  "use strict";

  // Move focus to the new step's heading after htmx swaps the wizard (htmx 4 and 2 event names).
  function focusHeading(event) {
    var target = (event.detail && (event.detail.target || (event.detail.ctx && event.detail.ctx.target))) || event.target;
    if (!target || target.id !== "wizard") return;
    var heading = target.querySelector("h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  }
  document.addEventListener("htmx:after:swap", focusHeading);
  document.addEventListener("htmx:afterSwap", focusHeading);

  // Times arrive as <time datetime="...Z" data-local-time="STYLE"> written in the workspace's zone;
  // show them in the viewer's own zone. The UTC value stays on hover (title), set by the server.
  var formats = {};
  function formatFor(style) {
    if (!formats[style]) {
      var options = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
      if (style.indexOf("datetime") === 0) { options.day = "2-digit"; options.month = "short"; options.year = "numeric"; }
      if (style.indexOf("-seconds") !== -1) options.second = "2-digit";
      formats[style] = new Intl.DateTimeFormat(undefined, options);
    }
    return formats[style];
  }
  function localiseTimes(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("time[data-local-time]:not([data-localised])").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) el.textContent = formatFor(el.getAttribute("data-local-time") || "datetime").format(when);
      el.setAttribute("data-localised", "");
    });
  }
  // A MutationObserver covers htmx swaps and polling in both htmx versions without their event names.
  document.addEventListener("DOMContentLoaded", function () {
    localiseTimes(document);
    new MutationObserver(function () { localiseTimes(document); }).observe(document.body, { childList: true, subtree: true });
  });

  var popup = null;
  var finished = false;

  function showWaiting(waitUrl) {
    var wizard = document.getElementById("wizard");
    fetch(waitUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (!wizard) return;
        wizard.innerHTML = html;
        history.pushState({}, "", waitUrl);
        var h = wizard.querySelector("h1");
        if (h) h.focus();
      });
  }

  // The wait URL may already carry ?reconnect=<id>.
  function withProblem(waitUrl, problem) {
    return waitUrl + (waitUrl.indexOf("?") === -1 ? "?" : "&") + "problem=" + problem;
  }

  function watch(waitUrl) {
    var timer = setInterval(function () {
      if (finished) { clearInterval(timer); return; }
      if (!popup || popup.closed) {
        clearInterval(timer);
        // Closed before Xero sent the user back: at the password, MFA or consent page, we cannot tell.
        if (!finished) window.location.assign(withProblem(waitUrl, "window_closed"));
      }
    }, 500);
  }

  window.addEventListener("message", function (event) {
    // Only our own origin and only the window we opened may hand control back.
    if (event.origin !== window.location.origin || !popup || event.source !== popup) return;
    var data = event.data || {};
    if (data.type !== "xero-auth-done" || typeof data.next !== "string" || data.next.charAt(0) !== "/" || data.next.charAt(1) === "/") return;
    finished = true;
    window.location.assign(data.next);
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-popup-url]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    var width = 620, height = 760;
    var left = Math.max(0, (window.screenX || 0) + (window.outerWidth - width) / 2);
    var top = Math.max(0, (window.screenY || 0) + (window.outerHeight - height) / 2);
    finished = false;
    popup = window.open(link.getAttribute("data-popup-url"), "xero-login",
      "popup=yes,width=" + width + ",height=" + height + ",left=" + left + ",top=" + top);
    var waitUrl = link.getAttribute("data-wait-url");
    if (!popup || popup.closed || typeof popup.closed === "undefined") {
      window.location.assign(withProblem(waitUrl, "popup_blocked"));
      return;
    }
    showWaiting(waitUrl);
    watch(waitUrl);
  });
})();
