// Small page behaviours, kept out of the HTML so the Content-Security-Policy can forbid
// inline scripts: <select data-autosubmit> submits its form on change, [data-print] prints.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-print]") : null;
  if (button) {
    event.preventDefault();
    window.print();
  }
});
// <form data-progress="Refreshing the figures…">: an action that takes a while. On submit its
// buttons are disabled (no double submit) and the message is shown and announced until the
// next page arrives. Where the <form> tag is not ours to change (the admin's import page), the
// attribute may sit on an element inside the form instead.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var marked = form.matches("[data-progress]") ? form : form.querySelector("[data-progress]");
  var message = marked && marked.getAttribute("data-progress");
  if (!message || event.defaultPrevented) {
    return;
  }
  form.setAttribute("aria-busy", "true");
  form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
    // Disabled after this tick, so the clicked button's name/value still goes with the form.
    setTimeout(function () { button.disabled = true; }, 0);
  });
  var status = form.querySelector(".progress-status");
  if (!status) {
    status = document.createElement("p");
    status.className = "progress-status";
    status.setAttribute("role", "status");
    form.appendChild(status);
  }
  status.textContent = message;
});
