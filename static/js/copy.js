// "Copy" buttons: data-ob-copy names the input whose value goes to the clipboard. Without this file the
// input is still there to select and copy by hand.
// Loaded with the panel, which htmx may swap in again: listen once.
if (!window.obCopyReady) {
window.obCopyReady = true;
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-ob-copy]");
  if (!button) return;
  const input = document.querySelector(button.dataset.obCopy);
  if (!input) return;
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = button.dataset.obCopied || label;
  setTimeout(() => { button.textContent = label; }, 1500);
});
}
