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

  // One scan keeps one nonce through its retries, so a lost reply never counts twice.
  function send(text, id, tries) {
    var body = new URLSearchParams({ scan: text, nonce: id, csrf_token: csrf });
    return fetch(action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
    }).then(function (response) {
      return response.json().then(function (data) {
        show(data.message, data.ok);
        if (data.attended !== undefined && count) { count.textContent = data.attended; }
      });
    }).catch(function () {
      if (tries > 0) { return new Promise(function (r) { setTimeout(r, 1500); }).then(function () { return send(text, id, tries - 1); }); }
      show("Mất kết nối. Hãy thử lại.", false);
    });
  }

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
        send(code.data, nonce(), 2).then(function () { busy = false; });
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
