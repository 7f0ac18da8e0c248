// Shows the 印刷 buttons and wires them to the browser's print dialog. Without this script the
// buttons stay hidden (they carry the hidden attribute) and the browser's own print still works.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});

// Every print, from the button or the browser's menu, goes to the audit trail (a print counts as
// evidence the orderer held the certificate). The form carries the CSRF token.
const printAudit = document.querySelector("form[data-print-audit]");
if (printAudit) {
  window.addEventListener("beforeprint", () => {
    navigator.sendBeacon(printAudit.action, new URLSearchParams(new FormData(printAudit)));
  });
}
