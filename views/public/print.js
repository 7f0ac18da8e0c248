// Shows the 印刷 buttons and wires them to the browser's print dialog. Without this script the
// buttons stay hidden (they carry the hidden attribute) and the browser's own print still works.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
