// The /fingerprint/ page: picks images, has the worker fingerprint them, then downloads or
// sends the fingerprint document. Image files are only ever read inside this browser.
(function () {
  "use strict";
  var configNode = document.getElementById("fingerprint-config");
  if (!configNode) return;
  var config = JSON.parse(configNode.textContent);
  var T = config.text;
  var $ = function (id) { return document.getElementById(id); };
  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }

  var worker = new Worker(config.worker);
  var pending = {};
  var seq = 0;
  var readyResolve, readyReject;
  var ready = new Promise(function (res, rej) { readyResolve = res; readyReject = rej; });
  worker.onmessage = function (event) {
    var msg = event.data;
    if (msg.type === "ready") return readyResolve();
    if (msg.type === "failed") return readyReject(new Error(msg.error));
    var p = pending[msg.id];
    if (!p) return;
    delete pending[msg.id];
    if (msg.type === "done") {
      msg.fingerprint.timing = msg.timing;
      p.resolve(msg.fingerprint);
    } else {
      var err = new Error(msg.code);
      err.code = msg.code;
      p.reject(err);
    }
  };
  worker.postMessage({
    type: "init",
    opencv: new URL(config.opencv, location.href).href,
    core: new URL(config.core, location.href).href,
  });

  // window.Jium.fingerprintFile(file, {level: "features" | "hash", keepName: bool})
  //   -> Promise of one JSON-serialisable fingerprint object.
  function fingerprintFile(file, options) {
    options = options || {};
    return ready.then(function () {
      return new Promise(function (resolve, reject) {
        var id = ++seq;
        pending[id] = { resolve: resolve, reject: reject };
        worker.postMessage({
          type: "file", id: id, file: file,
          level: options.level === "hash" ? "hash" : "features",
          name: options.keepName ? file.name : "",
        });
      });
    });
  }

  // window.Jium.fingerprintDocument(list) -> the document the page downloads or sends.
  function fingerprintDocument(list) {
    return {
      format: "jium-fingerprints",
      version: 1,
      made_by: "jium-browser/1 (opencv.js 5.0.0)",
      created_at: new Date().toISOString(),
      fingerprints: list.map(function (fp, i) {
        var copy = {};
        Object.keys(fp).forEach(function (k) { if (k !== "timing") copy[k] = fp[k]; });
        if (!copy.name) copy.name = fmt(T.image, { n: i + 1 });
        return copy;
      }),
    };
  }

  window.Jium = Object.assign(window.Jium || {}, {
    fingerprintFile: fingerprintFile,
    fingerprintDocument: fingerprintDocument,
    ready: ready,
  });

  // ------------------------------------------------------------------ the page itself
  var status = $("fp-status"), input = $("fp-files"), results = $("fp-results");
  var progress = $("fp-progress"), working = $("fp-working");
  var send = $("fp-send"), download = $("fp-download"), sent = $("fp-sent");
  var made = [];

  ready.then(
    function () { status.textContent = T.ready; status.classList.add("ready"); },
    function () { status.textContent = T.load_failed; }
  );

  function level() {
    var checked = document.querySelector("input[name=level]:checked");
    return checked ? checked.value : "features";
  }

  function errorText(code) {
    return T[code] || T.corrupt;
  }

  function update() {
    if (download) download.disabled = made.length === 0;
    if (send) send.disabled = made.length === 0;
  }

  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) return;
    var keep = $("fp-keep-names").checked;
    var lvl = level();
    var done = 0;
    progress.hidden = false;
    progress.max = files.length;
    progress.value = 0;
    sent.textContent = "";
    working.textContent = fmt(T.working, { done: 0, total: files.length });
    // One at a time: a phone has little memory to spare for several decoded photos.
    files.reduce(function (chain, file) {
      return chain.then(function () {
        var li = document.createElement("li");
        var position = made.length + 1;
        return fingerprintFile(file, { level: lvl, keepName: keep }).then(
          function (fp) {
            made.push(fp);
            li.className = "ok";
            li.textContent = (fp.name || fmt(T.image, { n: position })) + " — " + T.done_one;
          },
          function (err) {
            li.className = "problem";
            // Not numbered: only fingerprints that were made get a number (and a place in the file).
            li.textContent = (keep ? file.name + " — " : "") + errorText(err.code);
          }
        ).then(function () {
          results.appendChild(li);
          done += 1;
          progress.value = done;
          working.textContent = fmt(T.working, { done: done, total: files.length });
          update();
        });
      });
    }, Promise.resolve()).then(function () {
      progress.hidden = true;
      input.value = "";
    });
  });

  if (download) {
    download.addEventListener("click", function () {
      if (!made.length) { sent.textContent = T.nothing; return; }
      var blob = new Blob([JSON.stringify(fingerprintDocument(made))], { type: "application/json" });
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "jium-fingerprints.json";
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
  }

  if (send) {
    send.addEventListener("click", function () {
      if (!made.length) { sent.textContent = T.nothing; return; }
      var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
      var body = new FormData();
      body.append("document", new Blob([JSON.stringify(fingerprintDocument(made))], { type: "application/json" }), "fingerprints.json");
      send.disabled = true;
      sent.textContent = T.sending;
      fetch(config.submit, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "" },
      })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
        .then(function (res) {
          if (res.ok) {
            sent.textContent = res.body.message + " " + T.sent;
            made = [];
            update();
          } else {
            sent.textContent = res.body.error || T.send_failed;
            send.disabled = false;
          }
        })
        .catch(function () { sent.textContent = T.send_failed; send.disabled = false; });
    });
  }
})();
