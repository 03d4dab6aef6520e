// The visitor's web chat. No personal data: the chat is resumed by a random token kept in
// this tab's sessionStorage. Reconnects with backoff (chat_common.js).
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root || !window.WebSocket) { return; }
  document.getElementById("chat-nojs").hidden = true;
  root.hidden = false;

  var hotline = root.dataset.hotline;
  var storageKey = "hotline-chat-" + hotline;
  var statusEl = document.getElementById("chat-status");
  var lines = document.getElementById("transcript-lines");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var endButton = document.getElementById("chat-end");
  var offer = document.getElementById("chat-offer");
  var callbackForm = document.getElementById("callback-form");
  var callbackResult = document.getElementById("callback-result");
  var finished = false;
  var seen = {};
  var status = "new";

  function newToken() {
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function token() {
    var value = null;
    try { value = window.sessionStorage.getItem(storageKey); } catch (e) { value = null; }
    if (!value) {
      value = newToken();
      try { window.sessionStorage.setItem(storageKey, value); } catch (e) { /* private mode */ }
    }
    return value;
  }
  var chatToken = token();

  function say(key) { statusEl.textContent = root.dataset["text" + key] || ""; }

  function showStatus(value, reason) {
    status = value;
    var closed = value === "ended" || value === "missed";
    form.hidden = value === "ended" || value === "missed";
    endButton.hidden = value !== "waiting" && value !== "active";
    if (value === "missed") {
      offer.hidden = false;
      document.getElementById("offer-no-staff").hidden = reason !== "no_staff";
      document.getElementById("offer-closed").hidden = reason !== "closed";
    }
    say(value.charAt(0).toUpperCase() + value.slice(1));
    if (closed && value === "ended") { finished = true; }
  }

  var labels = { staff: root.dataset.labelStaff, visitor: root.dataset.labelVisitor };

  function addLine(message) {
    if (seen[message.id]) { return; }
    seen[message.id] = true;
    lines.appendChild(window.HotlineChat.line(message, labels));
    var box = document.getElementById("transcript");
    box.scrollTop = box.scrollHeight;
  }

  var deliver = null;

  function send(data) {
    if (deliver && deliver(data)) { return true; }
    say("Error");
    return false;
  }

  function handle(data) {
    if (data.type === "state") {
      (data.messages || []).forEach(addLine);
      if (data.status === "new" && !data.open) {
        showStatus("missed", "closed");
      } else {
        showStatus(data.status, data.reason);
      }
    } else if (data.type === "message") {
      addLine(data.message);
      if (status === "new") { showStatus("waiting"); }
    } else if (data.type === "accepted") {
      showStatus("active");
    } else if (data.type === "ended") {
      showStatus("ended");
    } else if (data.type === "unavailable") {
      showStatus("missed", data.reason);
    } else if (data.type === "callback") {
      callbackResult.textContent = data.saved ? root.dataset.textSaved : root.dataset.textInvalid;
    } else if (data.type === "error") {
      say("Error");
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) { return; }
    if (send({ type: "message", body: body })) { input.value = ""; }
  });
  endButton.addEventListener("click", function () { send({ type: "end" }); });
  callbackForm.addEventListener("submit", function (event) {
    event.preventDefault();
    send({ type: "callback", phone: document.getElementById("callback-phone").value });
  });

  say("Connecting");
  deliver = window.HotlineChat.connect("/chat/" + hotline + "/ws", {
    open: function () { deliver({ type: "hello", token: chatToken }); },
    message: handle,
    lost: function () { say("Reconnecting"); },
    finished: function () { return finished; }
  });
})();
