/* Working together: who views and types, crossing replies, catch-up after a dropped connection,
   auto-away, and the supervisors' team panel. Names are text, each isolated in a <bdi>. */
(function () {
  "use strict";

  const t = window.tawasul;
  if (!t || !t.socket) return;
  const { socket, labels, el } = t;
  const words = labels.together || {};
  const me = Number(document.body.dataset.userId || 0);
  const HEARTBEAT_MS = 30000;
  const TYPING_EVERY_MS = 2000; // at most one typing event per 2 s while typing
  const TYPING_SHOWN_MS = 5000; // a typist not heard from for 5 s has stopped

  // "{name} is typing…" -> text, <bdi>name</bdi>, text
  function withName(template, name) {
    const [before, after] = String(template || "{name}").split("{name}");
    const p = document.createDocumentFragment();
    p.append(before || "", el("bdi", {}, name), after || "");
    return p;
  }

  // A burst arrives coalesced: one event carrying a list.
  const each = (handle) => (payload) => [].concat(payload).forEach((item) => handle(item));

  // ---- every live page: heartbeat and auto-away ------------------------------------------------
  setInterval(() => socket.connected && socket.emit("heartbeat", {}), HEARTBEAT_MS);

  const awayAfterMs = Number(document.body.dataset.autoAwayMinutes || 10) * 60000;
  let lastActivity = Date.now();
  let idle = false;

  function showPresence(answer) {
    const badge = document.querySelector('[data-testid="my-presence"]');
    if (!badge || !answer || !answer.presence) return;
    badge.className = "badge presence-" + answer.presence;
    badge.textContent = (labels.presence && labels.presence[answer.presence]) || answer.presence;
  }

  function activity() {
    lastActivity = Date.now();
    if (idle) {
      idle = false;
      socket.emit("idle", { idle: false }, showPresence);
    }
  }
  ["keydown", "mousemove", "mousedown", "touchstart", "wheel"].forEach((name) =>
    document.addEventListener(name, activity, { passive: true, capture: true }));
  setInterval(() => {
    if (!idle && socket.connected && Date.now() - lastActivity >= awayAfterMs) {
      idle = true;
      socket.emit("idle", { idle: true }, showPresence);
    }
  }, Math.max(500, Math.min(15000, awayAfterMs / 4)));

  // ---- the supervisors' team panel -------------------------------------------------------------
  const panel = document.querySelector('[data-page="team"]');
  if (panel) {
    const body = panel.querySelector("tbody");
    const agentRow = (a) => {
      const tr = el("tr", { "data-agent-id": a.id, "data-testid": "agent-row" });
      const name = el("td", {});
      name.append(el("bdi", {}, a.name));
      const presence = el("td", {});
      presence.append(el("span", { class: "badge presence-" + a.presence, "data-field": "presence" },
        (labels.presence && labels.presence[a.presence]) || a.presence));
      const teams = el("td", {});
      (a.teams || []).forEach((team, i) => teams.append(i ? ", " : "", el("bdi", {}, team)));
      tr.append(name, presence, teams, el("td", { "data-field": "load" }, a.open + " / " + a.capacity));
      return tr;
    };
    const upsert = (a) => {
      const row = agentRow(a);
      const old = body.querySelector('[data-agent-id="' + a.id + '"]');
      if (old) old.replaceWith(row);
      else body.append(row);
    };
    let timer = null;
    const reload = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const response = await fetch("/api/team", { headers: { Accept: "application/json" } });
        if (response.ok) body.replaceChildren(...(await response.json()).map(agentRow));
      }, 1000); // loads move with assignments: one fetch per second of events at most
    };
    socket.on("presence_changed", each(upsert));
    socket.on("conversation_updated", reload);
    socket.on("conversation_created", reload);
    socket.on("connect", reload);
  }

  // ---- one conversation ------------------------------------------------------------------------
  const page = document.querySelector('[data-page="conversation"]');
  const conversationId = Number((page && page.dataset.conversationId) || 0);
  if (!conversationId) return;

  const viewersNode = page.querySelector('[data-testid="viewers"]');
  const typingNode = page.querySelector('[data-testid="typing"]');
  const heldBy = page.querySelector('[data-testid="held-by"]');
  const form = document.getElementById("reply-form");
  const replyText = form && form.querySelector("textarea");
  const lastSeenInput = form && form.querySelector('[name="last_seen_message_id"]');
  const confirmInput = form && form.querySelector('[name="confirm_crossing"]');
  const thread = document.getElementById("thread");

  // Viewers: everyone but me, once each.
  function showViewers(list) {
    if (!viewersNode) return;
    const others = (list || []).filter((v) => v.user_id !== me);
    viewersNode.replaceChildren();
    viewersNode.hidden = others.length === 0;
    if (!others.length) return;
    viewersNode.append(words.viewing + " ");
    others.forEach((v, i) => {
      if (i) viewersNode.append(", ");
      viewersNode.append(el("bdi", { "data-testid": "viewer" }, v.name));
    });
  }

  // Typing: the people typing now, each forgotten TYPING_SHOWN_MS after their last event.
  const typists = new Map();
  function showTyping() {
    if (!typingNode) return;
    const now = Date.now();
    for (const [id, entry] of typists) if (entry.until < now) typists.delete(id);
    typingNode.replaceChildren();
    typingNode.hidden = typists.size === 0;
    [...typists.values()].forEach((entry, i) => {
      if (i) typingNode.append(" · ");
      typingNode.append(withName(entry.kind === "note" ? words.typing_note : words.typing_reply, entry.name));
    });
  }
  setInterval(showTyping, 1000);

  socket.on("viewers", (data) => {
    if (data && data.conversation_id === conversationId) showViewers(data.viewers);
  });
  socket.on("typing", (data) => {
    if (!data || data.conversation_id !== conversationId || data.user_id === me) return;
    typists.set(data.user_id, { name: data.name, kind: data.kind, until: Date.now() + TYPING_SHOWN_MS });
    showTyping();
  });

  function watchTyping(textarea, kind) {
    if (!textarea) return;
    let sentAt = 0;
    textarea.addEventListener("input", () => {
      if (!textarea.value || Date.now() - sentAt < TYPING_EVERY_MS) return;
      sentAt = Date.now();
      socket.emit("typing", { conversation_id: conversationId, kind: kind });
    });
  }
  watchTyping(replyText, "reply");
  watchTyping(document.querySelector('#note-text, [data-testid="note-text"]'), "note");

  // Who holds it: a banner when it is someone else.
  async function showHolder(c) {
    if (!heldBy || !c || c.id !== conversationId || !("assignee_id" in c)) return;
    if (Number(heldBy.dataset.assigneeId || -1) === (c.assignee_id || 0) && !("assignee_name" in c)) return;
    let name = c.assignee_name;
    if (c.assignee_id && name === undefined) {
      const response = await fetch("/api/conversations/" + conversationId, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      name = (await response.json()).assignee_name;
    }
    heldBy.dataset.assigneeId = c.assignee_id || 0;
    heldBy.replaceChildren(withName(words.held_by, name || ""));
    heldBy.hidden = !c.assignee_id || c.assignee_id === me;
    const field = page.querySelector('[data-field="assignee"]');
    if (field && name) field.textContent = name;
  }

  // ---- the sequence number: a gap, or a reconnect, means fetch the whole conversation ----------
  let lastSeq = Number(page.dataset.seq || 0);
  let catchingUp = null;
  let online = socket.connected;

  function setSendable() {
    t.holdSend("offline", !online);
    t.holdSend("catching-up", catchingUp !== null);
  }

  function maxMessageId() {
    let max = 0;
    thread.querySelectorAll("[data-message-id]").forEach((li) => (max = Math.max(max, Number(li.dataset.messageId))));
    return max;
  }

  function catchUp() {
    if (catchingUp) return catchingUp;
    const status = document.getElementById("live-status");
    catchingUp = (async () => {
      setSendable();
      try {
        const response = await fetch("/api/conversations/" + conversationId, { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const c = await response.json();
        c.messages.forEach(t.upsertMessage);
        t.updateConversationHeader(c);
        showHolder(c);
        lastSeq = Math.max(lastSeq, Number(c.seq || 0));
      } finally {
        catchingUp = null;
        setSendable();
        if (status && online) status.hidden = true;
      }
    })();
    return catchingUp;
  }

  function sawSeq(item) {
    const id = item && (item.conversation_id || item.id);
    if (id !== conversationId || typeof item.seq !== "number") return;
    if (item.seq > lastSeq + 1) catchUp();
    else lastSeq = Math.max(lastSeq, item.seq);
  }
  socket.on("message_created", each(sawSeq));
  socket.on("message_updated", each(sawSeq));
  socket.on("conversation_updated", each((c) => {
    sawSeq(c);
    showHolder(c);
  }));

  socket.on("disconnect", () => {
    online = false;
    setSendable();
  });
  socket.on("connect", () => {
    online = true;
    socket.emit("viewing", { conversation_id: conversationId }, (answer) => answer && showViewers(answer.viewers));
    catchUp();
  });
  if (socket.connected) socket.emit("viewing", { conversation_id: conversationId }, (a) => a && showViewers(a.viewers));
  window.addEventListener("pagehide", () => socket.emit("stop_viewing", { conversation_id: conversationId }));

  // ---- crossing replies ------------------------------------------------------------------------
  // The last message the agent had seen when they began writing: anything newer crosses their reply.
  if (form && lastSeenInput) {
    // The X hand-off form (conversation.js) counts from when the agent opened it.
    const handoffSeen = document.querySelector('#handoff-form [name="last_seen_message_id"]');
    new MutationObserver(() => {
      if (!replyText || !replyText.value) lastSeenInput.value = maxMessageId();
      if (handoffSeen && !handoffSeen.closest("details").open) handoffSeen.value = maxMessageId();
    }).observe(thread, { childList: true });

    form.addEventListener("tawasul:reply-sent", () => {
      confirmInput.value = "0";
      lastSeenInput.value = maxMessageId();
      form.querySelectorAll(".send-anyway").forEach((b) => b.remove());
    });
    form.addEventListener("tawasul:reply-refused", (event) => {
      const { status, body } = event.detail;
      confirmInput.value = "0";
      form.querySelectorAll(".send-anyway").forEach((b) => b.remove());
      if (status !== 409 || !body || !body.crossing) return;
      (body.messages || []).forEach(t.upsertMessage); // the colleague's reply, on screen now
      const anyway = el("button", { type: "button", class: "send-anyway", "data-testid": "send-anyway" },
        words.send_anyway);
      anyway.addEventListener("click", () => {
        confirmInput.value = "1";
        anyway.remove();
        form.requestSubmit();
      });
      document.getElementById("reply-error").after(anyway);
    });
  }
})();
