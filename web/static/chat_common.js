// Shared by the visitor's chat (chat.js) and the staff chat list (chats.js).
window.HotlineChat = (function () {
  "use strict";

  // One transcript line: who wrote it, then the text (always as text, never as HTML).
  function line(message, labels) {
    var item = document.createElement("li");
    var who = document.createElement("span");
    who.className = "from";
    who.textContent = (message.from === "staff" ? labels.staff : labels.visitor) + ": ";
    var body = document.createElement("span");
    body.textContent = message.body;
    item.appendChild(who);
    item.appendChild(body);
    return item;
  }

  // A WebSocket to `path` on this host that reconnects with exponential backoff (1 s, 2 s,
  // 4 s … 30 s) unless handlers.finished() says the conversation is over. handlers.open runs
  // on every (re)connection, handlers.message gets each parsed event, handlers.lost a drop.
  // Returns send(data): true if it went out, false while disconnected.
  function connect(path, handlers) {
    var socket = null;
    var attempt = 0;
    function open() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + path);
      socket.addEventListener("open", function () {
        attempt = 0;
        handlers.open();
      });
      socket.addEventListener("message", function (event) {
        handlers.message(JSON.parse(event.data));
      });
      socket.addEventListener("close", function () {
        if (handlers.finished && handlers.finished()) { return; }
        handlers.lost();
        var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
        attempt += 1;
        window.setTimeout(open, delay);
      });
    }
    open();
    return function send(data) {
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(data));
        return true;
      }
      return false;
    };
  }

  return { line: line, connect: connect };
})();
