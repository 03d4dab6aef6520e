// The staff queue: live countdowns, live rows (server-sent events), banners for new acute cases.
// Without this script the page is complete as the server rendered it.
(function () {
  "use strict";
  var live = document.getElementById("queue-live");
  if (!live) { return; }
  var alertsBox = document.getElementById("queue-alerts");
  var statusEl = document.getElementById("queue-live-status");
  var atRiskMs = Number(live.dataset.atRiskSeconds) * 1000;
  var TICK_MS = 30000;
  var STORE = "hotline-queue-alerts";
  // The server's clock minus this browser's: countdowns follow the server, not a skewed laptop.
  var skew = 0;

  function text(name) { return live.dataset["text" + name] || ""; }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, function (_, key) { return String(values[key]); });
  }

  // Whole minutes, rounded down, as triage/views.duration_text writes them.
  function duration(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var hours = Math.floor(minutes / 60);
    if (hours >= 48) {
      return fill(text("Days"), { count: Math.floor(hours / 24) }) + " " +
        fill(text("Hours"), { count: hours % 24 });
    }
    if (hours > 0) {
      return fill(text("Hours"), { count: hours }) + " " +
        fill(text("Minutes"), { count: minutes % 60 });
    }
    return fill(text("Minutes"), { count: minutes });
  }

  // The parts GET /queue/rows sends, each swapped in by its id.
  var PARTS = ["queue-counts", "queue-rows"];

  function syncClock() {
    var rows = document.getElementById("queue-rows");
    var serverNow = rows ? Date.parse(rows.dataset.now) : NaN;
    if (!isNaN(serverNow)) { skew = serverNow - Date.now(); }
  }

  // --- countdowns ----------------------------------------------------------------------------

  function badge(className, label) {
    var span = document.createElement("span");
    span.className = "badge " + className;
    span.textContent = label;
    return span;
  }

  function tick() {
    var now = Date.now() + skew;
    live.querySelectorAll("[data-due]").forEach(function (cell) {
      var left = Date.parse(cell.dataset.due) - now;
      var state = left <= 0 ? "overdue" : (left <= atRiskMs ? "at_risk" : "on_time");
      cell.classList.remove("on_time", "at_risk", "overdue");
      cell.classList.add(state);
      var stateEl = cell.querySelector(".deadline-state");
      stateEl.textContent = "";
      if (state !== "on_time") {
        stateEl.appendChild(state === "overdue" ?
          badge("overdue-badge", text("Overdue")) : badge("due-soon-badge", text("DueSoon")));
        stateEl.appendChild(document.createTextNode(" "));
      }
      cell.querySelector(".countdown").textContent = state === "overdue" ?
        fill(text("OverdueBy"), { time: duration(left) }) : fill(text("Left"), { time: duration(left) });
      var row = cell.closest("tr");
      if (row) { row.classList.toggle("overdue", state === "overdue"); }
    });
    live.querySelectorAll("[data-since]").forEach(function (cell) {
      var since = now - Date.parse(cell.dataset.since);
      cell.querySelector(".since-text").textContent = fill(text("Ago"), { time: duration(since) });
    });
  }

  // --- live rows -----------------------------------------------------------------------------

  // Where focus was, as a selector that finds "the same" element in the new parts.
  function focusKey(element) {
    if (!element || !element.closest("#queue-counts, #queue-rows")) { return null; }
    if (element.id) { return "#" + element.id; }
    var row = element.closest("tr[id]");
    if (row) { return "#" + row.id + " " + element.tagName.toLowerCase(); }
    return null;
  }

  function swap(html) {
    var key = focusKey(document.activeElement);
    var fresh = new DOMParser().parseFromString(html, "text/html");
    PARTS.forEach(function (id) {
      var part = fresh.getElementById(id);
      var current = document.getElementById(id);
      if (part && current) { current.replaceWith(document.adoptNode(part)); }
    });
    syncClock();
    tick();
    if (key) {
      var again = document.querySelector(key);
      if (again) { again.focus({ preventScroll: true }); }
    }
  }

  var loading = false;
  var pending = false;
  var timer = null;

  function refresh() {
    timer = null;
    if (loading) { pending = true; return; }
    loading = true;
    fetch(live.dataset.rowsUrl + window.location.search, {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (response) {
      // A redirect ends on the login page: the login is over.
      if (!response.ok || response.redirected) { throw new Error("queue rows: " + response.status); }
      return response.text();
    }).then(swap, function () {
      say(text("Stopped"));
    }).then(function () {
      loading = false;
      if (pending) { pending = false; refresh(); }
    });
  }

  // Changes come in bursts (a batch of new contacts): one fetch for the lot.
  function soon() {
    if (timer === null) { timer = window.setTimeout(refresh, 300); }
  }

  function say(message) {
    if (statusEl && statusEl.textContent !== message) { statusEl.textContent = message; }
  }

  // --- banners for new acute cases -----------------------------------------------------------

  var baseTitle = document.title;
  var shown = {};
  var stored = readStore();

  function readStore() {
    try {
      var value = JSON.parse(window.sessionStorage.getItem(STORE) || "{}");
      return { open: value.open || [], dismissed: value.dismissed || [] };
    } catch (error) {
      return { open: [], dismissed: [] };
    }
  }

  function writeStore() {
    try { window.sessionStorage.setItem(STORE, JSON.stringify(stored)); } catch (error) { /* private mode */ }
  }

  function updateTitle() {
    var references = stored.open.map(function (item) { return item.reference; });
    document.title = references.length ?
      fill(alertsBox.dataset.textTitle, { reference: references.join(", ") }) + " – " + baseTitle :
      baseTitle;
  }

  function showAlert(item, remember) {
    if (shown[item.id] || stored.dismissed.indexOf(item.id) !== -1) { return; }
    shown[item.id] = true;
    if (remember) {
      stored.open.push({ id: item.id, reference: item.reference });
      writeStore();
    }
    var banner = document.createElement("div");
    banner.className = "alert-banner";
    banner.id = "alert-" + item.id;
    banner.setAttribute("role", "alert");
    var message = document.createElement("p");
    var heading = document.createElement("strong");
    heading.textContent = alertsBox.dataset.textHeading + " ";
    var link = document.createElement("a");
    link.href = "/cases/" + item.id;
    link.textContent = item.reference;
    message.appendChild(heading);
    message.appendChild(link);
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "button";
    dismiss.textContent = alertsBox.dataset.textDismiss;
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " " + item.reference;
    dismiss.appendChild(hidden);
    dismiss.addEventListener("click", function () { dismissAlert(item.id, banner); });
    banner.appendChild(message);
    banner.appendChild(dismiss);
    alertsBox.appendChild(banner);
    updateTitle();
  }

  function dismissAlert(id, banner) {
    banner.remove();
    delete shown[id];
    stored.open = stored.open.filter(function (item) { return item.id !== id; });
    stored.dismissed.push(id);
    writeStore();
    updateTitle();
    var next = alertsBox.querySelector("button");
    if (next) { next.focus(); } else { document.getElementById("main").focus(); }
  }

  // Banners not yet dismissed come back after a reload or a visit to the case.
  stored.open.forEach(function (item) { showAlert(item, false); });

  // --- the event stream ----------------------------------------------------------------------

  var connectedBefore = false;
  var retryMs = 5000;

  function connect() {
    var source = new EventSource(live.dataset.eventsUrl);
    source.addEventListener("open", function () {
      say(text("Live"));
      retryMs = 5000;
      // Whatever happened while the stream was down is in the rows now.
      if (connectedBefore) { soon(); }
      connectedBefore = true;
    });
    source.addEventListener("queue", function (event) {
      var data = JSON.parse(event.data);
      (data.alerts || []).forEach(function (item) { showAlert(item, true); });
      soon();
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (e.g. the login ended): the browser gives up, so try again now and then.
        say(text("Stopped"));
        window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 60000);
      } else {
        say(text("Reconnecting"));
      }
    });
  }

  syncClock();
  tick();
  window.setInterval(tick, TICK_MS);
  if (window.EventSource && window.fetch) { connect(); }
})();
