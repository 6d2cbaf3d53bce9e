// The admin's rule form (templates/admin/rule.html): add and remove rows of conditions and
// actions without a round trip. Without this script the same buttons post the form and the
// server re-renders it with the row added or removed, so nothing here is required.
(() => {
  "use strict";
  const form = document.querySelector('[data-testid="rule-form"]');
  if (!form) return;

  // Rows added here get indexes after the server's, so they are read in the order shown.
  let next = 0;
  form.querySelectorAll('input[type="hidden"][name$="-kind"]').forEach((input) => {
    const match = /^(?:condition|action)-(\d+)-kind$/.exec(input.name);
    if (match) next = Math.max(next, Number(match[1]) + 1);
  });

  function addRow(part) {
    const kind = form.querySelector(`[name="new_${part}"]`).value;
    const template = Array.from(document.querySelectorAll(`template[data-row="${part}"]`))
      .find((t) => t.dataset.kind === kind);
    if (!template) return;
    const row = template.content.firstElementChild.cloneNode(true);
    const index = String(next++);
    row.querySelectorAll("[name]").forEach((el) => { el.name = el.name.replace("__i__", index); });
    row.querySelectorAll("button[value]").forEach((el) => { el.value = el.value.replace("__i__", index); });
    form.querySelector(`[data-rows="${part}"]`).appendChild(row);
    const first = row.querySelector('input:not([type="hidden"]), select');
    if (first) first.focus();
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !form.contains(button)) return;
    if (button.hasAttribute("data-remove")) {
      event.preventDefault();
      const row = button.closest(".rule-row");
      const part = row.parentElement.dataset.rows;
      row.remove();
      form.querySelector(`[name="new_${part}"]`).focus();
    } else if (button.dataset.add) {
      event.preventDefault();
      addRow(button.dataset.add);
    }
  });
})();
