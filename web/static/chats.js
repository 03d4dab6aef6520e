// Staff: the live list of waiting and active web chats, and the chat this counsellor accepted.
(function () {
  "use strict";
  var root = document.getElementById("chats");
  if (!root || !window.WebSocket) { return; }
  var list = document.getElementById("chat-list");
  var statusEl = document.getElementById("chats-status");
  var conversation = document.getElementById("conversation");
  var lines = document.getElementById("staff-lines");
  var form = document.getElementById("staff-form");
  var input = document.getElementById("staff-input");
  var endButton = document.getElementById("staff-end");
  var me = null;
  var entries = {};
  var current = null;
  var seen = {};

  function text(key) { return root.dataset["text" + key] || ""; }

  var deliver = null;

  function send(data) {
    if (deliver) { deliver(data); }
  }

  function render() {
    list.textContent = "";
    var ids = Object.keys(entries).map(Number).sort(function (a, b) { return a - b; });
    ids.forEach(function (id) {
      var entry = entries[id];
      var item = document.createElement("li");
      item.id = "chat-" + id;
      var time = new Date(entry.started_at).toLocaleTimeString("da-DK", { hour: "2-digit", minute: "2-digit" });
      var label = "#" + id + " (" + entry.hotline + ", " + time + "): ";
      if (entry.status === "waiting") {
        label += text("Waiting");
      } else if (entry.accepted_by === me) {
        label += text("Mine");
      } else {
        label += text("Active");
      }
      item.appendChild(document.createTextNode(label + " "));
      if (entry.status === "waiting") {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button";
        button.textContent = text("Accept") + " #" + id;
        button.addEventListener("click", function () { send({ type: "accept", chat: id }); });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
    if (!ids.length) {
      var none = document.createElement("li");
      none.textContent = text("None");
      list.appendChild(none);
    }
  }

  var labels = { staff: root.dataset.labelStaff, visitor: root.dataset.labelVisitor };

  function addLine(message) {
    if (seen[message.id]) { return; }
    seen[message.id] = true;
    lines.appendChild(window.HotlineChat.line(message, labels));
  }

  function handle(data) {
    if (data.type === "chats") {
      me = data.me;
      entries = {};
      data.chats.forEach(function (entry) { entries[entry.id] = entry; });
      render();
    } else if (data.type === "chat") {
      var entry = data.entry;
      if (entry.status === "waiting" || entry.status === "active") {
        entries[entry.id] = entry;
      } else {
        delete entries[entry.id];
        if (entry.id === current && entry.status === "missed") { statusEl.textContent = text("Missed"); }
      }
      render();
    } else if (data.type === "transcript") {
      current = data.chat;
      lines.textContent = "";
      seen = {};
      data.messages.forEach(addLine);
      conversation.hidden = false;
      form.hidden = false;
      endButton.hidden = false;
      input.focus();
    } else if (data.type === "message" && data.chat === current) {
      addLine(data.message);
    } else if (data.type === "ended" && data.chat === current) {
      statusEl.textContent = data.by === "visitor" ? text("VisitorEnded") : text("Ended");
      form.hidden = true;
      endButton.hidden = true;
    } else if (data.type === "error" && data.code === "taken") {
      statusEl.textContent = text("Taken");
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body || current === null) { return; }
    send({ type: "message", chat: current, body: body });
    input.value = "";
  });
  endButton.addEventListener("click", function () {
    if (current !== null) { send({ type: "end", chat: current }); }
  });
  render();
  deliver = window.HotlineChat.connect("/chats/ws", {
    open: function () { statusEl.textContent = ""; },
    message: handle,
    lost: function () { statusEl.textContent = text("Reconnecting"); }
  });
})();
