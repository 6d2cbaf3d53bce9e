/* Keyboard shortcuts on the live pages, and their help overlay (?). They never fire while the
   agent types in a text box, except Esc, which leaves it. Works from the DOM: queue rows are
   [data-testid="conversation"], the buttons and boxes are found by their data-testid or id. */
(function () {
  "use strict";

  const labelsNode = document.getElementById("labels");
  if (!labelsNode) return;
  const words = JSON.parse(labelsNode.textContent).shortcuts || {};

  const KEYS = [
    [["j", "↓"], "next"], [["k", "↑"], "previous"], [["Enter"], "open"], [["r"], "reply"], [["n"], "note"],
    [["e"], "resolve"], [["a"], "claim"], [["/"], "search"], [["?"], "help"], [["Esc"], "escape"],
  ];

  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function visible(node) {
    return node && !node.hidden && !node.disabled && node.offsetParent !== null;
  }

  function focusBox(selector) {
    const box = document.querySelector(selector);
    if (!visible(box)) return false;
    box.focus();
    return true;
  }

  function press(selector) {
    const button = document.querySelector(selector);
    if (!visible(button)) return false;
    button.click();
    return true;
  }

  // ---- the queue: a selected row, moved with j/k or the arrows ---------------------------------
  function rows() {
    return [...document.querySelectorAll('[data-testid="conversation"]')].filter((r) => r.offsetParent !== null);
  }

  function linkOf(row) {
    return row.matches("a[href]") ? row : row.querySelector("a[href]");
  }

  function selectedIndex(list) {
    return list.findIndex((r) => r.classList.contains("selected"));
  }

  function select(step) {
    const queue = window.tawasul && window.tawasul.queue; // queue.js keeps the selection across live updates
    if (queue && queue.rows().length) return Boolean(step > 0 ? queue.next() : queue.previous());
    const list = rows();
    if (!list.length) return false;
    const current = selectedIndex(list);
    const next = current < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, current + step));
    list.forEach((r) => {
      r.classList.remove("selected");
      r.removeAttribute("aria-current");
    });
    const row = list[next];
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    const link = linkOf(row);
    (link || row).focus();
    row.scrollIntoView({ block: "nearest" });
    return true;
  }

  function openSelected() {
    const list = rows();
    const row = list[selectedIndex(list)];
    const link = row && linkOf(row);
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  }

  // ---- the help overlay: an accessible modal dialog --------------------------------------------
  let dialog = null;
  let returnFocus = null;

  function buildDialog() {
    const overlay = document.createElement("div");
    overlay.className = "shortcuts-overlay";
    overlay.hidden = true;
    const box = document.createElement("div");
    box.className = "shortcuts-dialog";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-labelledby", "shortcuts-title");
    box.dataset.testid = "shortcuts-help";
    const title = document.createElement("h2");
    title.id = "shortcuts-title";
    title.textContent = words.title || "Keyboard shortcuts";
    const list = document.createElement("dl");
    for (const [keys, name] of KEYS) {
      const dt = document.createElement("dt");
      keys.forEach((key, i) => {
        if (i) dt.append(" / ");
        const kbd = document.createElement("kbd");
        kbd.textContent = key;
        dt.append(kbd);
      });
      const dd = document.createElement("dd");
      dd.textContent = words[name] || name;
      list.append(dt, dd);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = words.close || "Close";
    close.dataset.testid = "shortcuts-close";
    close.addEventListener("click", closeHelp);
    box.append(title, list, close);
    overlay.append(box);
    overlay.addEventListener("click", (event) => event.target === overlay && closeHelp());
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") return;
      const focusable = [...box.querySelectorAll("button, [href], input, select, textarea, [tabindex]")];
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        last.focus();
        event.preventDefault();
      } else if (!event.shiftKey && document.activeElement === last) {
        first.focus();
        event.preventDefault();
      }
    });
    document.body.append(overlay);
    return overlay;
  }

  function openHelp() {
    dialog = dialog || buildDialog();
    returnFocus = document.activeElement;
    dialog.hidden = false;
    dialog.querySelector("button").focus();
    return true;
  }

  function closeHelp() {
    if (!dialog || dialog.hidden) return false;
    dialog.hidden = true;
    if (returnFocus && returnFocus.focus) returnFocus.focus();
    return true;
  }

  const ACTIONS = {
    j: () => select(1), ArrowDown: () => select(1),
    k: () => select(-1), ArrowUp: () => select(-1),
    Enter: openSelected,
    r: () => focusBox("#reply-text"),
    n: () => focusBox('#note-text, [data-testid="note-text"]'),
    e: () => press('[data-testid="status-resolved"]'),
    a: () => press('[data-testid="claim"]'),
    "/": () => focusBox('input[type="search"], [data-testid="search"]'),
    "?": openHelp,
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      if (closeHelp()) event.preventDefault();
      else if (typing(event.target)) event.target.blur();
      return;
    }
    if (dialog && !dialog.hidden) return; // the dialog is modal: only Tab and Esc inside it
    if (typing(event.target)) return;
    // Enter on a link or a button does what it always does; arrows only move in the queue.
    if (event.key === "Enter" && event.target instanceof HTMLElement && event.target.closest("a, button")) return;
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && !rows().length) return;
    const action = ACTIONS[event.key];
    if (action && action()) event.preventDefault();
  });
})();
