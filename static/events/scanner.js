// Check-in scanner: reads ticket QR codes from the camera with jsQR and posts each one.
// The page works without this script (type or search instead); this only adds the camera.
(function () {
  "use strict";
  var root = document.getElementById("scanner");
  if (!root || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.jsQR) {
    return;
  }
  var startButton = root.querySelector("[data-start]");
  var video = root.querySelector("video");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var status = document.getElementById("scan-status");
  var count = document.getElementById("attended-count");
  var action = root.getAttribute("data-action");
  var csrf = root.getAttribute("data-csrf");
  var lastText = "";
  var lastAt = 0;
  var busy = false;

  root.hidden = false;

  function nonce() {
    var bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function show(message, ok) {
    status.textContent = message;
    status.className = "alert " + (ok ? "ok" : "bad");
    if (navigator.vibrate) { navigator.vibrate(ok ? 80 : [60, 60, 60]); }
  }

  // Scans made while the network is down wait here (the ticket address and the nonce, nothing
  // else), are sent in order when it is back, and leave once the server has answered.
  var queueKey = "hvs-quet-cho-gui:" + action;
  var queueBox = document.getElementById("scan-queue");
  var sent = 0;
  var flushing = false;

  function waiting() {
    try { return JSON.parse(window.localStorage.getItem(queueKey) || "[]"); } catch (e) { return []; }
  }

  function keep(list) {
    if (list.length) { window.localStorage.setItem(queueKey, JSON.stringify(list)); }
    else { window.localStorage.removeItem(queueKey); }
  }

  function report() {
    var left = waiting().length;
    queueBox.hidden = !(left || sent);
    queueBox.querySelector("[data-counts]").textContent = "Đã gửi " + sent + " · Chờ gửi " + left;
  }

  function flag(message) {
    var item = document.createElement("li");
    item.textContent = message;
    queueBox.querySelector("[data-flagged]").appendChild(item);
  }

  // One scan keeps one nonce through its retries, so a lost reply never counts twice.
  function post(text, id) {
    var body = new URLSearchParams({ scan: text, nonce: id, csrf_token: csrf });
    return fetch(action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
    }).then(function (response) {
      return response.json().catch(function () {
        // Not the scanner's answer (the page expired): keep the scan for after a reload.
        throw new Error("reload");
      });
    });
  }

  function answered(data) {
    if (data.attended !== undefined && count) { count.textContent = data.attended; }
  }

  function send(text, id) {
    return post(text, id).then(function (data) {
      show(data.message, data.ok);
      answered(data);
    }).catch(function (error) {
      var list = waiting();
      list.push({ scan: text, nonce: id, at: Date.now() });
      keep(list);
      show(error.message === "reload" ? "Trang đã hết hạn: đã lưu lượt quét. Tải lại trang để gửi."
        : "Không có mạng: đã lưu lượt quét, sẽ tự gửi khi có mạng.", true);
      report();
    });
  }

  function flush() {
    if (flushing || !waiting().length) { return; }
    flushing = true;
    (function next() {
      var list = waiting();
      if (!list.length) { flushing = false; report(); return; }
      var item = list[0];
      post(item.scan, item.nonce).then(function (data) {
        keep(waiting().filter(function (other) { return other.nonce !== item.nonce; }));
        sent += 1;
        answered(data);
        // A ticket scanned twice while offline: the second answer says it was already in.
        if (!data.ok || data.first_time === false) { flag(data.message); }
        report();
        next();
      }).catch(function () { flushing = false; report(); });
    }());
  }

  window.addEventListener("online", flush);
  window.setInterval(flush, 10000);
  report();
  flush();

  function tick() {
    if (video.readyState === video.HAVE_ENOUGH_DATA && !busy) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      var now = Date.now();
      if (code && code.data && (code.data !== lastText || now - lastAt > 4000)) {
        lastText = code.data;
        lastAt = now;
        busy = true;
        send(code.data, nonce()).then(function () { busy = false; });
      }
    }
    window.setTimeout(tick, 250);
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        video.setAttribute("playsinline", "");
        video.hidden = false;
        startButton.hidden = true;
        return video.play();
      })
      .then(tick)
      .catch(function () { show("Không mở được máy ảnh. Hãy cho phép dùng máy ảnh, hoặc tìm theo tên.", false); });
  });
}());
