// copy.js: "Copy" buttons for secrets shown once. No inline code (the CSP
// forbids it); the script binds to buttons by data attribute:
//
//   <code id="client-secret">…</code>
//   <button type="button" data-copy="client-secret" hidden>Copy secret</button>
//
// The buttons start hidden and are shown only when the Clipboard API is
// available; without script the text is selected with one click (CSS
// user-select: all) and copied by hand. After a copy the button says
// "Copied" for two seconds; the status is announced to screen readers
// through the page's [data-copy-status] element, when there is one.
(function () {
  "use strict";

  function bind(btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) return;
    var label = btn.textContent;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent).then(function () {
        btn.textContent = "Copied";
        var status = document.querySelector("[data-copy-status]");
        if (status) status.textContent = "Copied to the clipboard.";
        setTimeout(function () { btn.textContent = label; }, 2000);
      }, function () {
        var sel = window.getSelection(), range = document.createRange();
        range.selectNodeContents(target);
        sel.removeAllRanges();
        sel.addRange(range);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var btns = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < btns.length; i++) bind(btns[i]);
  });
})();
