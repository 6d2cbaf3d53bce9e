/* The conversation screen beyond app.js: the composer's length counter and canned responses,
   notes with @mention autocomplete, tags, priority and snooze without a reload, and the live
   timeline. Every customer or agent string goes into the DOM as textContent. */
(function () {
  "use strict";

  const T = window.tawasul;
  const page = document.querySelector('[data-page="conversation"]');
  if (!T || !page) return;
  const { el, post, labels, socket } = T;
  const conversationId = Number(page.dataset.conversationId);
  const each = (handle) => (payload) => [].concat(payload).forEach((x) => handle(x));
  const lang = document.documentElement.lang || "ar";
  const timeFormat = new Intl.DateTimeFormat(lang, {
    timeZone: document.body.dataset.timezone || "Asia/Amman", dateStyle: "short", timeStyle: "short",
  });

  // ---- length: counted as the platform counts (connectors/text_length.py) --------------------
  const LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  const URL = /https?:\/\/\S+|www\.\S+/gi;
  const weigh = (s) => {
    let total = 0;
    for (const ch of s) {
      const cp = ch.codePointAt(0);
      total += LIGHT.some(([a, b]) => cp >= a && cp <= b) ? 1 : 2;
    }
    return total;
  };
  function xWeighted(text) {
    text = text.normalize("NFC");
    let total = 0;
    let at = 0;
    for (const m of text.matchAll(URL)) {
      total += weigh(text.slice(at, m.index)) + 23;
      at = m.index + m[0].length;
    }
    return total + weigh(text.slice(at));
  }
  const codePoints = (text) => Array.from(text).length;

  const form = document.getElementById("reply-form");
  const box = document.getElementById("reply-text");
  const counter = document.getElementById("reply-counter");
  const tooLong = document.getElementById("reply-too-long");
  const privately = form && form.querySelector('[name="private"]');
  let over = false;

  function updateCounter() {
    if (!box || !counter) return;
    const usePrivate = privately && privately.checked;
    const limit = Number(usePrivate ? box.dataset.privateLimit : box.dataset.limit);
    const counting = usePrivate ? "code_points" : box.dataset.counting;
    const text = box.value.trim();
    const n = counting === "x_weighted" ? xWeighted(text) : codePoints(text);
    counter.querySelector('[data-field="count"]').textContent = String(n);
    counter.querySelector('[data-field="limit"]').textContent = String(limit);
    over = n > limit;
    counter.classList.toggle("over", over);
    tooLong.hidden = !over;
    box.setAttribute("aria-invalid", String(over));
    T.holdSend("too-long", over);
  }

  if (form && box) {
    box.addEventListener("input", updateCounter);
    if (privately) privately.addEventListener("change", updateCounter);
    // A sent reply empties the box: count again.
    form.addEventListener("tawasul:reply-sent", updateCounter);
    form.addEventListener("submit", (event) => {
      updateCounter();
      if (over) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }, true);
    updateCounter();
  }

  // ---- a listbox under a text field (canned responses, @mentions) ---------------------------
  function picker(list, owner, onPick) {
    let options = [];
    let active = -1;
    function show(items, render) {
      options = items;
      active = items.length ? 0 : -1;
      list.replaceChildren(...items.map((item, i) => {
        const li = el("li", { role: "option", id: list.id + "-" + i, "aria-selected": String(i === active),
                              "data-testid": list.id + "-option" });
        render(li, item);
        li.addEventListener("mousedown", (e) => e.preventDefault()); // keep the focus in the field
        li.addEventListener("click", () => pick(i));
        return li;
      }));
      list.hidden = false;
      list.dataset.owner = owner.id;
      owner.setAttribute("aria-expanded", "true");
      mark();
    }
    function empty(text) {
      options = [];
      active = -1;
      list.replaceChildren(el("li", { class: "hint", role: "option", "aria-disabled": "true" }, text));
      list.hidden = false;
      list.dataset.owner = owner.id;
      owner.setAttribute("aria-expanded", "true");
    }
    function hide() {
      list.hidden = true;
      owner.setAttribute("aria-expanded", "false");
      owner.removeAttribute("aria-activedescendant");
    }
    function mark() {
      [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
      if (active >= 0) owner.setAttribute("aria-activedescendant", list.id + "-" + active);
    }
    function pick(i) {
      const item = options[i];
      hide();
      if (item) onPick(item);
    }
    owner.addEventListener("keydown", (event) => {
      if (list.hidden || list.dataset.owner !== owner.id) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!options.length) return;
        active = (active + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
        mark();
      } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        hide();
      }
    });
    // Two fields may share a list (the search field and the reply box): each closes only its own.
    owner.addEventListener("blur", () => setTimeout(() => list.dataset.owner === owner.id && hide(), 150));
    return { show, empty, hide, isOpen: () => !list.hidden };
  }

  function insertAt(field, text, start, end) {
    field.setRangeText(text, start, end, "end");
    field.focus();
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // ---- canned responses: "/" at the start of the reply, or the search field -----------------
  const search = document.getElementById("canned-search");
  const cannedList = document.getElementById("canned-results");
  const version = document.getElementById("canned-language");
  if (search && cannedList && box) {
    let slash = null; // [start, end] of "/query" in the reply box, when the reply box asked
    let owner = search;
    const pickers = {
      search: picker(cannedList, search, insertCanned),
      box: picker(cannedList, box, insertCanned),
    };
    function textOf(item) {
      const wanted = version.value;
      return item.text[wanted] || item.text[wanted === "ar" ? "en" : "ar"] || "";
    }
    function insertCanned(item) {
      const text = textOf(item);
      if (slash) insertAt(box, text, slash[0], slash[1]);
      else insertAt(box, text, box.selectionStart, box.selectionEnd);
      slash = null;
      search.value = "";
    }
    let timer = null;
    function lookUp(query, from) {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const url = "/api/canned?conversation_id=" + conversationId + "&q=" + encodeURIComponent(query);
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const data = await response.json();
        owner = from;
        const p = from === box ? pickers.box : pickers.search;
        if (!data.items.length) return p.empty(labels.screen.no_canned);
        p.show(data.items, (li, item) => {
          li.append(el("bdi", { class: "title" }, item.title));
          if (item.shortcut) li.append(" ", el("code", { dir: "ltr" }, "/" + item.shortcut));
          li.append(el("span", { class: "preview", dir: "auto" }, textOf(item)));
        });
      }, 120);
    }
    search.addEventListener("input", () => {
      slash = null;
      lookUp(search.value, search);
    });
    search.addEventListener("focus", () => lookUp(search.value, search));
    box.addEventListener("input", () => {
      const m = /^\/([^\s/]{0,40})$/.exec(box.value.slice(0, box.selectionStart));
      if (m && box.value.trim().startsWith("/")) {
        slash = [0, box.selectionStart];
        lookUp(m[1], box);
      } else if (owner === box) {
        slash = null;
        pickers.box.hide();
      }
    });
  }

  // ---- notes and @mentions ------------------------------------------------------------------
  const noteForm = document.getElementById("note-form");
  const noteBox = document.getElementById("note-text");
  const mentionList = document.getElementById("mention-results");
  let people = null;
  async function mentionable() {
    if (people) return people;
    const response = await fetch("/conversations/" + conversationId + "/mentionable",
                                 { headers: { Accept: "application/json" } });
    people = response.ok ? await response.json() : [];
    return people;
  }
  if (noteForm && noteBox && mentionList) {
    let at = null;
    const mentions = picker(mentionList, noteBox, (person) => {
      insertAt(noteBox, "@" + person.handle + " ", at[0], at[1]);
      at = null;
    });
    noteBox.addEventListener("input", async () => {
      const before = noteBox.value.slice(0, noteBox.selectionStart);
      const m = /(?:^|[^\p{L}\p{N}_@.])@([\p{L}\p{N}_.-]{0,64})$/u.exec(before);
      if (!m) {
        at = null;
        return mentions.hide();
      }
      at = [noteBox.selectionStart - m[1].length - 1, noteBox.selectionStart];
      const q = m[1].toLocaleLowerCase();
      const found = (await mentionable()).filter((p) =>
        p.handle.includes(q) || p.name.toLocaleLowerCase().replace(/\s+/g, "").includes(q));
      if (!found.length) return mentions.empty(labels.screen.no_mention);
      mentions.show(found.slice(0, 8), (li, p) => {
        li.append(el("bdi", {}, p.name), " ", el("span", { dir: "ltr", class: "handle" }, "@" + p.handle));
      });
    });
    noteForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = noteForm.querySelector('button[type="submit"]');
      const error = document.getElementById("note-error");
      button.disabled = true;
      try {
        const response = await post(noteForm.action, new FormData(noteForm));
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          addNote(body);
          noteBox.value = "";
          error.hidden = true;
        } else {
          error.textContent = body.error || response.statusText;
          error.hidden = false;
        }
      } finally {
        button.disabled = false;
      }
    });
  }

  function addNote(n) {
    if (n.conversation_id !== conversationId) return;
    const thread = document.getElementById("thread");
    if (thread.querySelector('[data-note-id="' + n.id + '"]')) return;
    const li = el("li", { class: "note", "data-note-id": n.id, "data-testid": "note", id: "note-" + n.id });
    const meta = el("div", { class: "meta" });
    meta.append(el("span", { class: "badge note-badge" }, labels.screen.note), el("bdi", { class: "author" }, n.author || ""),
                el("time", { datetime: n.created_at }, timeFormat.format(new Date(n.created_at))));
    li.append(meta, el("p", { class: "text", dir: "auto" }, n.text));
    thread.append(li);
    li.scrollIntoView({ block: "nearest" });
  }

  // ---- tags, priority and snooze without a reload ---------------------------------------------
  function renderTags(tags) {
    const list = document.getElementById("tag-list");
    if (!list) return;
    list.replaceChildren(...tags.map((name) => {
      const li = el("li", { class: "tag", "data-tag": name });
      const remove = el("button", { type: "button", class: "link", title: labels.screen.remove_tag,
                                    "aria-label": labels.screen.remove_tag + ": " + name }, "×");
      remove.addEventListener("click", () => changeTag("/tags/remove", name));
      li.append(el("bdi", {}, name), " ", remove);
      return li;
    }));
  }
  async function changeTag(path, name) {
    const body = new FormData();
    body.append("name", name);
    const response = await post("/conversations/" + conversationId + path, body);
    if (response.ok) renderTags((await response.json()).tags);
  }
  document.querySelectorAll(".tag-remove").forEach((f) => f.addEventListener("submit", (event) => {
    event.preventDefault();
    changeTag("/tags/remove", f.querySelector('[name="name"]').value);
  }));
  const tagForm = document.getElementById("tag-add");
  if (tagForm) {
    tagForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const field = tagForm.querySelector('[name="name"]');
      await changeTag("/tags", field.value);
      field.value = "";
    });
  }

  function renderHeader(c) {
    if (c.id !== conversationId) return;
    const chip = page.querySelector('[data-field="priority"]');
    if (chip && c.priority) {
      chip.className = "badge priority-" + c.priority;
      chip.textContent = labels.screen.priority[c.priority] || String(c.priority);
      const select = document.getElementById("priority");
      if (select) select.value = String(c.priority);
    }
    const until = page.querySelector('[data-field="snoozed-until"]');
    if (until && "snoozed_until" in c) {
      until.hidden = !(c.status === "snoozed" && c.snoozed_until);
      until.replaceChildren();
      if (!until.hidden) until.append(el("time", { datetime: c.snoozed_until }, timeFormat.format(new Date(c.snoozed_until))));
    }
  }
  ["priority-form", "snooze-form"].forEach((testid) => {
    const f = page.querySelector('[data-testid="' + testid + '"]');
    if (!f) return;
    f.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await post(f.action, new FormData(f));
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        T.updateConversationHeader(body);
        renderHeader(body);
      } else if (body.error) {
        window.alert(body.error);
      }
    });
  });

  // ---- X hand-off: a public reply and a DM in one action (inbox/services/handoff.py) ----------
  const handoff = document.getElementById("handoff-form");
  if (handoff) {
    handoff.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = handoff.querySelector('button[type="submit"]');
      const error = document.getElementById("handoff-error");
      button.disabled = true;
      try {
        const response = await post(handoff.action, new FormData(handoff));
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          if (T.upsertMessage) T.upsertMessage(body.public); // the DM shows in its own conversation
          handoff.querySelector('[name="private_text"]').value = "";
          const bytes = crypto.getRandomValues(new Uint8Array(16));
          handoff.querySelector('[name="client_token"]').value =
            Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
          handoff.closest("details").open = false;
          handoff.querySelector('[name="confirm_crossing"]').value = "0";
          error.hidden = true;
        } else {
          // 409: a colleague answered (or the customer wrote) since this page last looked. Their
          // messages join the thread; sending again goes anyway.
          if (response.status === 409) {
            (body.messages || []).forEach((m) => T.upsertMessage && T.upsertMessage(m));
            handoff.querySelector('[name="confirm_crossing"]').value = "1";
          }
          error.textContent = body.error || response.statusText;
          error.hidden = false;
        }
      } finally {
        button.disabled = false;
      }
    });
  }

  // ---- the timeline: refreshed (as the server renders it) when an event is recorded ----------
  // Besides conversation_event_recorded, a conversation_updated or sla_breached of this
  // conversation means an assignment, status, priority, intent or SLA line may have been added.
  const timeline = document.getElementById("timeline");
  let refreshing = null;
  function refreshTimeline() {
    if (!timeline || refreshing) return;
    refreshing = setTimeout(async () => {
      refreshing = null;
      const response = await fetch(timeline.dataset.url, { headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      timeline.replaceChildren(...doc.body.childNodes);
    }, 300);
  }

  socket.on("note_created", each(addNote));
  socket.on("conversation_event_recorded", each((e) => e.conversation_id === conversationId && refreshTimeline()));
  socket.on("conversation_updated", each((c) => c.id === conversationId && refreshTimeline()));
  socket.on("sla_breached", each((b) => b.conversation_id === conversationId && refreshTimeline()));
  socket.on("conversation_tags_changed", each((t) => t.conversation_id === conversationId && renderTags(t.tags)));
  socket.on("conversation_updated", each(renderHeader));
})();
