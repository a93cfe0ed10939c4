// OrderBridge: small behaviours on top of htmx and Bootstrap. Every page also works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // A line just added: put the cursor on its product so that entry can go on from the keyboard.
  const row = event.detail.target.id === "order-lines" && event.detail.target.lastElementChild;
  const select = row && row.querySelector("select");
  if (select) select.focus();
});
