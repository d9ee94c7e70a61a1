// Ticking a row saves the selection at once and refreshes the count and the metrics panel.
// Without JavaScript the "Save ticks on this page" button does the same with a page load.
(function () {
  const form = document.getElementById("page-selection");
  if (!form) return;
  form.addEventListener("change", async function (event) {
    if (event.target.name !== "ids") return;
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    });
    if (!response.ok) { form.submit(); return; }
    const data = await response.json();
    document.getElementById("selection-count").textContent = data.count + " selected";
    document.getElementById("metrics-panel").innerHTML = data.metrics_html;
  });
})();
