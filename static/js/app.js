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
