// While a nominations file is sent and checked, the page shows that it is working
// and the button cannot be pressed twice; the page works the same without it.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var bar = document.getElementById("import-progress");
  if (!form || !bar) return;
  form.addEventListener("submit", function () {
    bar.hidden = false;
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.setAttribute("aria-busy", "true");
      // Disabled after the submission has started, so that the form still sends.
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  });
})();
