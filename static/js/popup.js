// Runs in the Xero pop-up after the callback: hand control back to the wizard, then close.
(function () {
  "use strict";
  var main = document.getElementById("popup-done");
  var next = main && main.getAttribute("data-next-url");
  if (!next) return;
  if (window.opener && !window.opener.closed) {
    window.opener.postMessage({ type: "xero-auth-done", next: next }, window.location.origin);
    window.close();
  } else {
    window.location.replace(next);
  }
})();
