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
