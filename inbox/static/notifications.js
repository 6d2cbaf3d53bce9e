/* The top bar's notifications (an @mention in a note): unread badge, list, mark as read.
   Live over the page's socket where there is one (window.tawasul, app.js). Text goes in as textContent. */
(function () {
  "use strict";

  const toggle = document.getElementById("notifications-toggle");
  const panel = document.getElementById("notifications-panel");
  if (!toggle || !panel) return;
  const list = document.getElementById("notifications-list");
  const count = document.getElementById("notifications-count");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const lang = document.documentElement.lang || "ar";
  const timeFormat = new Intl.DateTimeFormat(lang, {
    timeZone: document.body.dataset.timezone || "Asia/Amman", dateStyle: "short", timeStyle: "short",
  });

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function setCount(n) {
    count.textContent = String(Math.max(0, n));
    count.hidden = n <= 0;
  }

  function markRead(id) {
    const body = new FormData();
    if (id) body.append("id", String(id));
    return fetch("/notifications/read", {
      method: "POST", body: body, headers: { Accept: "application/json", "X-CSRFToken": csrf },
    }).then((r) => (r.ok ? r.json() : null)).then((data) => data && setCount(data.unread));
  }

  function item(n) {
    const li = el("li", { class: "notification" + (n.read ? "" : " unread"), "data-testid": "notification",
                          "data-notification-id": n.id });
    const link = el("a", { href: "/conversations/" + Number(n.conversation_id) + "#note-" + Number(n.note_id) });
    link.append(el("bdi", { class: "actor" }, n.actor || ""), " ", panel.dataset.mentioned + " ",
                el("span", { dir: "auto", class: "excerpt" }, n.excerpt || ""));
    link.addEventListener("click", (event) => {
      if (n.read) return;
      event.preventDefault();
      markRead(n.id).finally(() => window.location.assign(link.href));
    });
    li.append(link, " ", el("time", { datetime: n.created_at }, n.created_at ? timeFormat.format(new Date(n.created_at)) : ""));
    return li;
  }

  function render(items) {
    list.replaceChildren(...items.map(item));
    if (!items.length) list.append(el("li", { class: "hint" }, panel.dataset.empty));
  }

  async function load() {
    const response = await fetch("/notifications", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    setCount(data.unread);
    render(data.items);
  }

  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) load();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      panel.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });
  document.getElementById("notifications-read-all").addEventListener("submit", (event) => {
    event.preventDefault();
    markRead(null).then(load);
  });

  const live = window.tawasul && window.tawasul.socket;
  if (!live) return;
  const each = (handle) => (payload) => [].concat(payload).forEach((x) => handle(x));
  live.on("notification_created", each((n) => {
    setCount(Number(count.textContent || 0) + 1);
    if (!panel.hidden) {
      list.querySelectorAll(".hint").forEach((h) => h.remove());
      list.prepend(item(n));
    }
    toggle.classList.remove("ping");
    void toggle.offsetWidth; // restart the animation
    toggle.classList.add("ping");
  }));
  live.on("notifications_read", each((data) => setCount(data.unread)));
})();
