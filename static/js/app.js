// OrderBridge: small behaviours on top of htmx and Bootstrap. Every page also works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // A line just added: put the cursor on its product so that entry can go on from the keyboard.
  const row = event.detail.target.id === "order-lines" && event.detail.target.lastElementChild;
  const select = row && row.querySelector("select");
  if (select) select.focus();
});

// A button with data-fill='{"field id": "value"}' copies the values into the form (e.g. "use this date" of
// the delivery-date quote); typing the value by hand does the same without JavaScript.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-fill]");
  if (!button) return;
  for (const [id, value] of Object.entries(JSON.parse(button.dataset.fill))) {
    const field = document.getElementById(id);
    if (field) {
      field.value = value;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
});

// Lists with ticks (the order list's bulk actions): "select all on this page" and the count of ticked rows.
// Delegated on the document, so a list htmx swaps in again needs nothing more.
function obSelectedCount(form) {
  const counter = form.querySelector("[data-ob-selected-count]");
  if (!counter) return;
  const ticked = form.querySelectorAll('input[name="number"]:checked').length;
  counter.textContent = `${ticked} ${counter.dataset.obSelectedText || ""}`.trim();
}
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-ob-select-all]");
  const form = event.target.closest("form");
  if (all && form) {
    form.querySelectorAll('input[name="number"]').forEach((box) => { box.checked = all.checked; });
  }
  if (form && (all || event.target.name === "number")) obSelectedCount(form);
});
