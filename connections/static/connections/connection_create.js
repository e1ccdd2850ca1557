// Create connection: saving first tests the credentials against Akeneo, which can take the whole timeout.
// While it runs, the Save button is disabled (no second submission, no second test) and a status line says so.
(function () {
  "use strict";
  var form = document.getElementById("connection_form");
  var status = document.querySelector("[data-connection-testing]");
  if (!form || !status) { return; }

  function buttons() {
    return form.querySelectorAll('input[type="submit"], button[type="submit"]');
  }

  function setTesting(testing) {
    buttons().forEach(function (button) { button.disabled = testing; });
    status.textContent = testing ? status.dataset.text : "";
    status.hidden = !testing;
    form.setAttribute("aria-busy", testing ? "true" : "false");
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.testing === "true") { event.preventDefault(); return; }
    form.dataset.testing = "true";
    // After the form data is built: a button disabled now would leave its own name out of the submission.
    window.setTimeout(function () { setTesting(true); }, 0);
  });

  // Back to this page from the browser's history cache: the form can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      form.dataset.testing = "false";
      setTesting(false);
    }
  });
})();
