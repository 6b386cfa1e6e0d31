/* Saving a course for reading offline, and listing what this phone has saved. Only pages the
   server marks as free of personal data are kept (X-Offline-Copy), fetched without cookies. */
(function () {
  "use strict";
  if (!("caches" in window) || !("serviceWorker" in navigator)) return;
  var PAGES = "hvs-trang", IMAGES = "hvs-anh", COURSES = "hvs-khoa-hoc";

  function element(tag, text, attributes) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    for (var key in attributes || {}) node.setAttribute(key, attributes[key]);
    return node;
  }

  async function keep(cacheName, url, pageOnly) {
    var response = await fetch(url, {credentials: "omit"});
    if (!response.ok || (pageOnly && response.headers.get("X-Offline-Copy") !== "this")) {
      throw new Error("không lưu được " + url);
    }
    await (await caches.open(cacheName)).put(url, response);
  }

  async function saveCourse(manifestUrl, report) {
    var response = await fetch(manifestUrl, {credentials: "omit", cache: "no-store"});
    if (!response.ok) throw new Error("không tải được danh sách bài");
    var course = await response.clone().json();
    var total = course.pages.length + course.images.length, done = 0;
    for (var i = 0; i < course.pages.length; i++) {
      await keep(PAGES, course.pages[i], true);
      report("Đang lưu " + (++done) + "/" + total + "…");
    }
    for (var j = 0; j < course.images.length; j++) {
      await keep(IMAGES, course.images[j], false);
      report("Đang lưu " + (++done) + "/" + total + "…");
    }
    var courses = await caches.open(COURSES), earlier = await courses.match(manifestUrl);
    if (earlier) {
      // Pages of lessons taken out of the course go too.
      var before = (await earlier.json()).pages, pages = await caches.open(PAGES);
      for (var k = 0; k < before.length; k++) {
        if (course.pages.indexOf(before[k]) < 0) await pages.delete(before[k]);
      }
    }
    await courses.put(manifestUrl, response);
    return course;
  }

  async function removeCourse(manifestUrl) {
    var courses = await caches.open(COURSES), saved = await courses.match(manifestUrl);
    if (!saved) return;
    var course = await saved.json(), pages = await caches.open(PAGES);
    for (var i = 0; i < course.pages.length; i++) await pages.delete(course.pages[i]);
    await courses.delete(manifestUrl);
  }

  function savedText(course) {
    return "Đã lưu " + course.lessons + " bài để học khi không có mạng.";
  }

  async function setUpSaveBox(box) {
    var manifestUrl = box.getAttribute("data-offline-course");
    var button = box.querySelector("[data-offline-save]");
    var status = box.querySelector("[data-offline-status]");
    var report = function (text) { status.textContent = text; };
    var saved = await (await caches.open(COURSES)).match(manifestUrl);
    var course = saved ? await saved.json() : null;
    box.hidden = false;
    function show() {
      button.textContent = course ? "Bỏ lưu khóa học này" : "Lưu để học khi không có mạng";
      if (course) report(savedText(course));
    }
    show();
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        if (course) {
          await removeCourse(manifestUrl);
          course = null;
          report("Đã bỏ lưu. Các bài vẫn đọc được khi có mạng.");
        } else {
          course = await saveCourse(manifestUrl, report);
        }
        show();
      } catch (error) {
        report("Chưa lưu được: mạng yếu hoặc bị ngắt. Hãy thử lại khi có mạng.");
      }
      button.disabled = false;
    });
    // A saved course is brought up to date when its content changed (a sync, an edit published).
    if (course && navigator.onLine) {
      try {
        var fresh = await (await fetch(manifestUrl, {credentials: "omit", cache: "no-store"})).json();
        if (fresh.version !== course.version) {
          report("Khóa học có nội dung mới, đang cập nhật bản đã lưu…");
          course = await saveCourse(manifestUrl, report);
          report("Đã cập nhật bản đã lưu: " + course.lessons + " bài.");
        }
      } catch (error) { /* offline: the saved copy stays as it is */ }
    }
  }

  function titleOf(html) {
    var found = /<title>([^<]*)<\/title>/.exec(html);
    if (!found) return "";
    return new DOMParser().parseFromString(found[1], "text/html").documentElement.textContent.split(" · ")[0];
  }

  async function showSaved(list) {
    var courses = await caches.open(COURSES), keys = await courses.keys(), savedPages = {};
    var heading = element("h2", "Khóa học đã lưu");
    list.appendChild(heading);
    if (!keys.length) list.appendChild(element("p", "Chưa lưu khóa học nào trên điện thoại này.", {"class": "muted"}));
    var ul = element("ul", "", {"class": "outline"});
    for (var i = 0; i < keys.length; i++) {
      var course = await (await courses.match(keys[i])).json();
      course.pages.forEach(function (page) { savedPages[page] = true; });
      var item = element("li");
      item.appendChild(element("a", course.title, {href: course.pages[0]}));
      item.appendChild(element("span", " · " + course.lessons + " bài", {"class": "muted"}));
      ul.appendChild(item);
    }
    if (keys.length) list.appendChild(ul);
    var pages = await caches.open(PAGES), opened = [];
    for (var request of await pages.keys()) {
      var path = new URL(request.url).pathname;
      if (path === "/offline" || savedPages[path]) continue;
      opened.push({path: path, title: titleOf(await (await pages.match(request)).text()) || path});
    }
    if (opened.length) {
      list.appendChild(element("h2", "Trang đã mở"));
      var more = element("ul", "", {"class": "outline"});
      opened.slice(0, 100).forEach(function (page) {
        var item = element("li");
        item.appendChild(element("a", page.title, {href: page.path}));
        more.appendChild(item);
      });
      list.appendChild(more);
    }
  }

  // What waits to be sent, asked of the service worker (it keeps the queue).
  function askWorker(question) {
    return navigator.serviceWorker.ready.then(function (registration) {
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) { resolve(event.data); };
        (navigator.serviceWorker.controller || registration.active).postMessage(question, [channel.port2]);
      });
    });
  }

  function when(at) {
    var d = new Date(at);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + " " + two(d.getDate()) + "/" + two(d.getMonth() + 1);
  }

  async function showWaiting(box) {
    var list = await askWorker("danh-sach");
    box.textContent = "";
    box.appendChild(element("h2", "Chờ gửi (" + list.waiting.length + ")"));
    if (!list.waiting.length && !list.confirm.length) {
      box.appendChild(element("p", "Không có gì đang chờ gửi.", {"class": "muted"}));
    }
    if (list.waiting.length) {
      box.appendChild(element("p", "Điện thoại sẽ tự gửi khi có mạng trở lại.", {"class": "muted"}));
      var ul = element("ul", "", {"class": "outline"});
      list.waiting.forEach(function (item) { ul.appendChild(element("li", item.label + " · lưu lúc " + when(item.at))); });
      box.appendChild(ul);
    }
    if (list.confirm.length) {
      box.appendChild(element("h2", "Cần xác nhận (" + list.confirm.length + ")"));
      box.appendChild(element("p", "Máy chủ chưa nhận những mục này (biểu mẫu đã hết hạn hoặc cần sửa). Thông tin bạn đã nhập vẫn còn: mở ra, kiểm tra rồi gửi lại."));
      var confirm = element("ul", "", {"class": "outline"});
      list.confirm.forEach(function (item) {
        var li = element("li");
        li.appendChild(element("a", item.label + " · lưu lúc " + when(item.at), {href: item.url}));
        confirm.appendChild(li);
      });
      box.appendChild(confirm);
    }
  }

  var waiting = document.querySelector("[data-offline-waiting]");
  if (waiting) {
    showWaiting(waiting);
    navigator.serviceWorker.addEventListener("message", function () { showWaiting(waiting); });
  }
  var box = document.querySelector("[data-offline-course]");
  if (box) setUpSaveBox(box);
  var list = document.querySelector("[data-offline-list]");
  if (list) showSaved(list);
  var state = document.querySelector("[data-offline-state]");
  if (state && !navigator.onLine) state.textContent = "Bạn đang không có mạng. " + state.textContent;
})();
