/* The queue: rows placed live in queue order, "load more", counts per view, the selected row.
   Every customer-supplied string goes into the DOM as textContent. Needs app.js (window.tawasul). */
(function () {
  "use strict";

  const section = document.querySelector('[data-page="queue"]');
  const t = window.tawasul;
  if (!section || !t || !t.socket) return;

  const { el, labels, socket } = t;
  const list = document.getElementById("conversations");
  const empty = section.querySelector('[data-testid="queue-empty"]');
  const loadMore = section.querySelector('[data-testid="load-more"]');
  const view = section.dataset.view;
  const filters = JSON.parse(section.dataset.filters || "{}");
  const search = section.dataset.search || "";
  const userId = Number(section.dataset.userId);
  const teamIds = JSON.parse(section.dataset.teamIds || "[]");
  let next = section.dataset.next || null;
  let selectedId = null;

  const STATUSES = {
    active: ["new", "open", "pending", "snoozed"], open: ["new", "open"], new: ["new"], pending: ["pending"],
    snoozed: ["snoozed"], resolved: ["resolved"],
  };
  const SENTINEL = "9999";

  // ---- does a conversation belong here? (the server's rules, inbox/services/queue.py) ----------
  function inView(c) {
    if (view === "mine") return c.assignee_id === userId;
    if (view === "team") return teamIds.includes(c.team_id);
    if (view === "unassigned") {
      // Agents see their teams' only; a supervisor's unassigned view covers every team.
      const visible = section.dataset.seesAll === "1" || teamIds.includes(c.team_id);
      return c.assignee_id === null && !c.triage && visible;
    }
    if (view === "triage") return !!c.triage;
    return true;
  }

  function secondsLeftToday() {
    const zone = document.body.dataset.timezone || "Asia/Amman";
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit",
      second: "2-digit", hourCycle: "h23" }).formatToParts(new Date());
    const part = (type) => Number(parts.find((p) => p.type === type).value);
    return 86400 - (part("hour") * 3600 + part("minute") * 60 + part("second"));
  }

  function slaMatches(due) {
    const now = new Date().toISOString().replace("Z", "000Z");
    const within = (seconds) => due > now && due <= new Date(Date.now() + seconds * 1000).toISOString().replace("Z", "000Z");
    if (filters.sla === "overdue") return due <= now;
    if (filters.sla === "hour") return within(3600);
    if (filters.sla === "today") return within(secondsLeftToday());
    if (filters.sla === "none") return due.startsWith(SENTINEL);
    return true;
  }

  function matches(c) {
    if (!inView(c)) return false;
    if (!(STATUSES[filters.status || "active"] || []).includes(c.status)) return false;
    if (filters.channel && Number(filters.channel) !== c.channel_id) return false;
    if (filters.platform && filters.platform !== c.platform) return false;
    if (filters.intent && filters.intent !== c.intent) return false;
    if (filters.language && filters.language !== c.language) return false;
    if (filters.priority && Number(filters.priority) !== c.priority) return false;
    return slaMatches(c.sort_key[0]);
  }

  // ---- rows -------------------------------------------------------------------------------------
  function keyOf(row) {
    return JSON.parse(row.dataset.sortKey);
  }

  function compare(a, b) {
    if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
    if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
    return a[2] - b[2];
  }

  function conversationRow(c) {
    const li = el("li", { class: "conversation", "data-conversation-id": c.id, "data-testid": "conversation",
      "data-sort-key": JSON.stringify(c.sort_key) });
    const a = el("a", { href: "/conversations/" + c.id });
    const customer = el("span", { class: "customer" });
    customer.append(el("bdi", {}, c.customer.name));
    const kind = c.is_public ? labels.kind.public : labels.kind.private;
    const time = t.timeNode(c.last_message_at);
    time.dataset.field = "time";
    a.append(
      customer,
      el("span", { class: "badge status-" + c.status, "data-field": "status" }, labels.status[c.status] || c.status),
      t.slaNode(c),
      el("span", { class: "badge" }, c.platform + " · " + kind),
      time,
      el("span", { class: "preview", dir: "auto", "data-field": "preview" }, c.preview)
    );
    li.append(a);
    return li;
  }

  function rows() {
    return Array.from(list.querySelectorAll('[data-testid="conversation"]'));
  }

  function rowOf(id) {
    return list.querySelector('[data-conversation-id="' + Number(id) + '"]');
  }

  // What the agent is looking at: the selected row if on screen, else the first row on screen.
  function anchor(except) {
    const visible = (row) => {
      const box = row.getBoundingClientRect();
      return box.bottom > 0 && box.top < window.innerHeight;
    };
    const selected = selectedId !== null ? rowOf(selectedId) : null;
    if (selected && selected !== except && visible(selected)) return selected;
    return rows().find((row) => row !== except && visible(row)) || null;
  }

  // Change the list without moving what is on screen: a row arriving or leaving above the
  // viewport shifts the page by its height, which we take back.
  function keepingPlace(except, change) {
    const fixed = anchor(except);
    const before = fixed ? fixed.getBoundingClientRect().top : 0;
    const focused = document.activeElement;
    change();
    if (fixed && fixed.isConnected) {
      const shift = fixed.getBoundingClientRect().top - before;
      if (shift) window.scrollBy(0, shift);
    }
    if (focused && !focused.isConnected && except) {
      const again = rowOf(except.dataset.conversationId);
      if (again) again.querySelector("a").focus({ preventScroll: true });
    }
  }

  // Insert at the row's sorted place; past the last loaded row only when nothing is left to load.
  function place(row) {
    const key = keyOf(row);
    const after = rows().find((other) => other !== row && compare(keyOf(other), key) > 0);
    if (after) list.insertBefore(row, after);
    else if (!next) list.append(row);
    else return false;
    return true;
  }

  function upsert(c, isNew) {
    scheduleCounts(); // any event may change another tab's count
    const existing = rowOf(c.id);
    const wanted = matches(c);
    if (!existing && (!wanted || search)) return; // a search's results do not grow by themselves
    keepingPlace(existing, () => {
      if (existing) existing.remove();
      if (!wanted) return;
      const row = conversationRow(c);
      if (isNew) row.classList.add("arrived");
      if (place(row) && c.id === selectedId) mark(row);
    });
    empty.hidden = rows().length > 0;
  }

  // ---- selection (keyboard shortcuts use window.tawasul.queue) ---------------------------------
  function mark(row) {
    rows().forEach((r) => {
      r.classList.toggle("selected", r === row);
      if (r === row) r.setAttribute("aria-current", "true");
      else r.removeAttribute("aria-current");
    });
    selectedId = row ? Number(row.dataset.conversationId) : null;
  }

  function select(index) {
    const all = rows();
    if (!all.length) return null;
    const row = all[Math.max(0, Math.min(index, all.length - 1))];
    mark(row);
    row.querySelector("a").focus();
    row.scrollIntoView({ block: "nearest" });
    return row;
  }

  function selectedIndex() {
    return rows().findIndex((r) => Number(r.dataset.conversationId) === selectedId);
  }

  list.addEventListener("focusin", (event) => {
    const row = event.target.closest('[data-testid="conversation"]');
    if (row) mark(row);
  });

  // ---- pages and counts -------------------------------------------------------------------------
  function params(extra) {
    const query = new URLSearchParams({ view: view, ...filters, ...extra });
    if (search) query.set("q", search);
    return query;
  }

  async function fetchJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    return response.ok ? response.json() : null;
  }

  async function loadNext() {
    if (!next) return;
    loadMore.disabled = true;
    try {
      const body = await fetchJson("/api/conversations?" + params({ after: next }));
      if (!body) return;
      body.items.forEach((c) => {
        if (!rowOf(c.id)) list.append(conversationRow(c));
      });
      next = body.next;
      loadMore.hidden = !next;
      empty.hidden = rows().length > 0;
    } finally {
      loadMore.disabled = false;
    }
  }
  loadMore.addEventListener("click", loadNext);

  const COUNT_CAP = Number(section.dataset.countCap); // services/queue.py: exact up to here, then "999+"
  function renderCounts(counts) {
    for (const [name, count] of Object.entries(counts || {})) {
      const node = section.querySelector('[data-count="' + name + '"]');
      if (node) node.textContent = count > COUNT_CAP ? COUNT_CAP + "+" : String(count);
    }
  }

  // At most one count request per few seconds however many events arrive.
  const COUNTS_EVERY_MS = 3000;
  let countsTimer = null;
  let countsAt = 0;
  function scheduleCounts() {
    if (countsTimer) return;
    const wait = Math.max(0, countsAt + COUNTS_EVERY_MS - Date.now());
    countsTimer = setTimeout(async () => {
      countsAt = Date.now();
      try {
        const body = await fetchJson("/api/conversations/counts?" + params({}));
        if (body) renderCounts(body.counts);
      } finally {
        countsTimer = null;
      }
    }, wait);
  }

  // After a dropped connection: the first page again, placed like live events, and the counts.
  async function catchUp() {
    const body = await fetchJson("/api/conversations?" + params({}));
    if (body) body.items.forEach((c) => upsert(c, false));
    scheduleCounts();
  }

  let connectedBefore = socket.connected;
  socket.on("connect", () => {
    if (connectedBefore) catchUp();
    connectedBefore = true;
  });
  // A burst arrives coalesced: one event carrying a list.
  socket.on("conversation_created", (payload) => [].concat(payload).forEach((c) => upsert(c, true)));
  socket.on("conversation_updated", (payload) => [].concat(payload).forEach((c) => upsert(c, false)));

  t.queue = {
    rows: rows,
    select: select,
    selectedIndex: selectedIndex,
    next: () => select(selectedIndex() + 1),
    previous: () => select(Math.max(0, selectedIndex() - 1)),
    loadMore: loadNext,
    upsert: upsert, // place a conversation payload as a socket event would
  };
})();
