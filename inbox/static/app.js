/* Tawasul's live pages. Every customer-supplied string goes into the DOM as textContent. */
(function () {
  "use strict";

  const page = document.querySelector("[data-page]");
  const labelsNode = document.getElementById("labels");
  if (!page || !labelsNode || typeof io === "undefined") return;

  const labels = JSON.parse(labelsNode.textContent);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || "ar", {
    timeZone: document.body.dataset.timezone || "Asia/Amman",
    dateStyle: "short",
    timeStyle: "short",
  });

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function timeNode(iso) {
    return el("time", { datetime: iso }, iso ? timeFormat.format(new Date(iso)) : "");
  }

  // ---- SLA: the earliest due time still running, relative ("in 2 hours", "5 minutes ago") ----
  const relativeFormat = new Intl.RelativeTimeFormat(document.documentElement.lang || "ar", { numeric: "auto" });

  function relativeTime(iso) {
    const seconds = (new Date(iso) - Date.now()) / 1000;
    for (const [unit, size] of [["day", 86400], ["hour", 3600]]) {
      if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
    }
    return relativeFormat.format(Math.round(seconds / 60), "minute");
  }

  function renderSla(badge, c, breached) {
    if (!badge || !("sla_due_at" in c)) return;
    badge.hidden = !c.sla_due_at;
    badge.textContent = "";
    if (!c.sla_due_at) return;
    const late = breached || c.sla_breached || new Date(c.sla_due_at) <= Date.now();
    badge.classList.toggle("breached", late);
    const time = el("time", { datetime: c.sla_due_at, title: timeFormat.format(new Date(c.sla_due_at)) },
      (late ? labels.sla_breached : labels.sla_due) + " " + relativeTime(c.sla_due_at));
    badge.append(time);
  }

  function slaNode(c) {
    const badge = el("span", { class: "badge sla", "data-field": "sla", "data-testid": "sla" });
    renderSla(badge, c, false);
    return badge;
  }

  // A breach pushed to supervisors and the team: mark the row or the open conversation.
  function markBreached(breach) {
    const scope = conversationId ? (breach.conversation_id === conversationId ? page : null)
      : page.querySelector('[data-conversation-id="' + breach.conversation_id + '"]');
    const badge = scope && scope.querySelector('[data-field="sla"]');
    if (badge) renderSla(badge, { sla_due_at: breach.due + "Z" }, true);
  }

  // The queue's rows, views, filters and pages: inbox/static/queue.js.

  // ---- one conversation --------------------------------------------------------------
  const conversationId = Number(page.dataset.conversationId || 0);

  function messageItem(m) {
    const li = el("li", {
      class: "message " + (m.direction === "out" ? "outbound" : "inbound"),
      "data-message-id": m.id,
      "data-testid": "message",
    });
    const meta = el("div", { class: "meta" });
    meta.append(el("bdi", { class: "author" }, m.author || ""), timeNode(m.created_at));
    const composer = document.getElementById("reply-form");
    if (m.direction === "out" && !m.is_public && composer && composer.dataset.public === "1") {
      // A private reply to a comment of this public conversation.
      meta.append(el("span", { class: "badge private-reply", "data-field": "private" }, labels.kind.private));
    }
    if (m.direction === "in") {
      const kind = m.is_public ? "public" : "private";
      meta.append(el("span", { class: "badge kind-" + kind, "data-field": "kind" }, labels.kind[kind]));
    }
    li.append(meta, el("p", { class: "text", dir: "auto" }, m.text));
    (m.attachments || []).forEach((a) => li.append(attachmentNode(a)));
    renderChange(li, m);
    if (m.direction === "out") renderState(li, m);
    return li;
  }

  // As macros.html's attachment(): an https image inline, an http(s) file as a link, else the name.
  function attachmentNode(a) {
    const url = typeof a.url === "string" && /^https?:\/\//i.test(a.url) ? a.url : null;
    const name = String(a.name || a.external_id || a.type || "");
    if (url && (a.type === "image" || a.type === "sticker") && /^https:\/\//i.test(url)) {
      const figure = el("figure", { class: "attachment image", "data-testid": "attachment" });
      figure.append(el("img", { src: url, alt: name, loading: "lazy", referrerpolicy: "no-referrer" }));
      const caption = el("figcaption");
      caption.append(el("bdi", {}, name));
      figure.append(caption);
      return figure;
    }
    const p = el("p", { class: "attachment", "data-testid": "attachment" });
    const label = el("bdi", {}, name);
    p.append(el("span", { class: "badge" }, a.type), " ");
    if (url) {
      const link = el("a", { href: url, rel: "noopener noreferrer", target: "_blank" });
      link.append(label);
      p.append(link);
    } else p.append(label);
    return p;
  }

  // Events and fetch responses can arrive out of order: a state never moves backwards,
  // except out of "failed" (the agent's retry puts the reply back in the queue).
  const STATE_RANK = { queued: 0, sending: 1, sent: 2, failed: 2, delivered: 3, read: 4 };

  function isStale(badge, state) {
    const current = badge && badge.dataset.state;
    if (!current || current === "failed") return false;
    return (STATE_RANK[state] ?? 0) < (STATE_RANK[current] ?? 0);
  }

  function renderState(li, m) {
    const meta = li.querySelector(".meta");
    let badge = meta.querySelector('[data-field="state"]');
    if (isStale(badge, m.state)) return;
    if (!badge) {
      badge = el("span", { "data-field": "state" });
      meta.append(badge);
    }
    badge.className = "badge state-" + m.state;
    badge.dataset.state = m.state;
    badge.textContent = labels.state[m.state] || m.state;
    li.querySelectorAll(".error, .retry, .retry-form").forEach((n) => n.remove());
    if (m.state === "failed") {
      li.append(el("p", { class: "error", "data-field": "error", dir: "auto" }, m.error || ""));
      const retry = el("button", { class: "retry", type: "button", "data-testid": "retry" }, labels.retry);
      retry.addEventListener("click", () => post("/messages/" + m.id + "/retry", new FormData()));
      li.append(retry);
    }
  }

  function renderChange(li, m) {
    li.querySelectorAll('[data-field="edited"], [data-field="deleted"]').forEach((n) => n.remove());
    const kind = m.deleted ? "deleted" : m.edited ? "edited" : null;
    if (kind) li.querySelector(".meta").append(el("span", { class: "badge", "data-field": kind }, labels[kind]));
    li.querySelector(".text").textContent = m.text;
  }

  function upsertMessage(m) {
    if (m.conversation_id !== conversationId) return;
    const thread = document.getElementById("thread");
    const existing = thread.querySelector('[data-message-id="' + m.id + '"]');
    if (existing) {
      renderChange(existing, m);
      if (m.direction === "out") renderState(existing, m);
      return;
    }
    thread.append(messageItem(m));
    thread.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  function updateConversationHeader(c) {
    if (c.id !== conversationId) return;
    const badge = page.querySelector('[data-field="status"]');
    badge.className = "badge status-" + c.status;
    badge.textContent = labels.status[c.status] || c.status;
    page.querySelectorAll(".status-actions button").forEach((b) => (b.disabled = b.value === c.status));
    renderSla(page.querySelector('[data-field="sla"]'), c, false);
    updateIntent(c);
  }

  function updateIntent(c) {
    const chip = page.querySelector('[data-field="intent"]');
    const source = page.querySelector('[data-field="intent-source"]');
    if (!chip || !source || !("intent" in c)) return;
    chip.textContent = c.intent ? labels.intent[c.intent] || c.intent : labels.no_intent;
    if (!c.intent) source.textContent = "";
    else if (c.intent_model_version_id === null && c.intent_confidence === 1) source.textContent = labels.intent_by_agent;
    else source.textContent = c.intent_confidence === null ? "" : Math.round(c.intent_confidence * 100) + "%";
    const select = page.querySelector("#intent");
    if (select && c.intent) select.value = c.intent;
  }

  async function refreshConversation() {
    const response = await fetch("/api/conversations/" + conversationId, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const c = await response.json();
    c.messages.forEach(upsertMessage);
    updateConversationHeader(c);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
    });
  }

  function newToken() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const form = document.getElementById("reply-form");

  // The send button has several reasons to be off at once: a send in flight (here), the socket
  // offline or catching up (together.js), a text over the platform's limit (conversation.js).
  // Each script holds or releases only its own reason; the button is on when none is held.
  const sendHolds = new Set();
  function holdSend(reason, held) {
    if (held) sendHolds.add(reason);
    else sendHolds.delete(reason);
    const button = form && form.querySelector('button[type="submit"]');
    if (button) button.disabled = sendHolds.size > 0;
  }

  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById("reply-error");
      holdSend("sending", true);
      try {
        const response = await post(form.action, new FormData(form));
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          upsertMessage(body);
          const privately = form.querySelector('[name="private"]');
          if (privately && privately.checked) privately.closest("label").remove(); // one per comment
          form.querySelector("textarea").value = "";
          form.querySelector('[name="client_token"]').value = newToken();
          error.hidden = true;
        } else {
          error.textContent = body.error || response.statusText;
          error.hidden = false;
        }
        form.dispatchEvent(new CustomEvent(response.ok ? "tawasul:reply-sent" : "tawasul:reply-refused",
          { detail: { status: response.status, body: body } }));
      } finally {
        holdSend("sending", false);
      }
    });
  }

  // ---- the socket ----------------------------------------------------------------------
  const status = document.getElementById("live-status");
  const socket = io();
  let connectedBefore = false;
  // For the pages' own scripts (together.js, shortcuts.js): the one socket and the helpers.
  window.tawasul = Object.assign(window.tawasul || {}, {
    timeNode, slaNode, renderSla, relativeTime, // queue.js renders rows as this file renders badges
    socket, labels, el, post, page, conversationId, upsertMessage, updateConversationHeader, refreshConversation,
    holdSend,
  });

  socket.on("connect", () => {
    status.hidden = true;
    if (connectedBefore && conversationId) refreshConversation(); // the queue catches up in queue.js
    connectedBefore = true;
  });
  socket.on("disconnect", () => (status.hidden = false));
  socket.on("session_ended", () => {
    socket.disconnect();
    window.location.assign("/login");
  });

  // A burst arrives coalesced: one event carrying a list instead of one event per item.
  const each = (handle) => (payload) => [].concat(payload).forEach((item) => handle(item));
  socket.on("sla_breached", each(markBreached));

  // Supervisors: a conversation that climbed the whole ladder with no agent free. The newest
  // five stay on screen; the customer's name is text, isolated for bidi.
  const alerts = document.getElementById("alerts");
  function showAlert(alert) {
    if (!alerts) return;
    const c = alert.conversation || {};
    const item = el("li", { "data-testid": "supervisor-alert" });
    const link = el("a", { href: "/conversations/" + Number(c.id) }, null);
    link.append(el("bdi", {}, (c.customer && c.customer.name) || "#" + c.id));
    const since = new Date(Date.now() - 1000 * (Number(alert.waited_seconds) || 0)).toISOString();
    item.append(el("span", {}, labels.no_free_agent + " "), link, el("span", {}, " · " + relativeTime(since)));
    const list = alerts.querySelector("ul");
    list.prepend(item);
    while (list.children.length > 5) list.lastElementChild.remove();
    alerts.hidden = false;
  }
  socket.on("supervisor_alerted", each(showAlert));
  if (conversationId) {
    socket.on("message_created", each(upsertMessage));
    socket.on("message_updated", each(upsertMessage));
    socket.on("conversation_updated", each(updateConversationHeader));
  }
})();
