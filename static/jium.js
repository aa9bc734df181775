// Quick exit: leave at once, without leaving this page in the back history. /exit/ ends the
// session on the server before it sends the browser on to a neutral site.
(function () {
  function quickExit(event) {
    if (event) event.preventDefault();
    var link = document.getElementById("quick-exit");
    document.body.innerHTML = "";
    document.title = "Weather";
    window.location.replace(link ? link.href : "/exit/");
  }
  // A page the browser restores from its back-forward cache shows what it showed before, even
  // after the session ended: blank it at once and ask the server again (which then shows the
  // login page if the session is gone).
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    document.body.innerHTML = "";
    window.location.reload();
  });
  document.addEventListener("click", function (e) {
    if (e.target && e.target.id === "quick-exit") quickExit(e);
  });
  var lastEsc = 0;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var now = Date.now();
    if (now - lastEsc < 800) quickExit(e);
    lastEsc = now;
  });

  // Live progress: poll the server-rendered fragment until every link reaches a final state,
  // refreshing the rows of the link table whenever more links have finished.
  function refreshRows(box) {
    var table = document.querySelector("#url-table tbody");
    if (!table) return Promise.resolve();
    var url = box.dataset.poll.replace(/progress\/$/, "rows/") + window.location.search;
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) table.innerHTML = html; });
  }
  function poll() {
    var box = document.getElementById("progress");
    if (!box || !box.dataset.poll) return;
    var pollUrl = box.dataset.poll;
    fetch(pollUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { setTimeout(poll, 5000); return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#progress");
        var changed = fresh.dataset.done !== box.dataset.done;
        box.replaceWith(fresh);
        if (!fresh.dataset.poll) {
          // Finished: reload once so the summary, buttons and matches link are current.
          window.location.reload();
          return;
        }
        var next = function () { setTimeout(poll, 1500); };
        if (changed) { fresh.dataset.poll = pollUrl; refreshRows(fresh).then(next, next); } else { next(); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }

  // Reference intake: drop several photos at once; show what was picked; say that work is happening.
  function setupDropzone(form) {
    var input = form.querySelector("input[type=file]");
    var picked = form.querySelector(".picked");
    if (!input) return;
    function show() {
      if (picked) picked.textContent = input.files.length ? input.files.length + " ✓" : "";
    }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (e) { e.preventDefault(); form.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function (e) { e.preventDefault(); form.classList.remove("over"); });
    });
    form.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; show(); }
    });
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = form.dataset.busy || button.textContent; }
    });
  }

  // Slow forms (drafting notices, saving one, checking links now) carry data-busy: on submit the
  // button is disabled and the form says, in the page's language, that the work is under way.
  function busyOnSubmit(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit], button:not([type])");
      if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
      var note = form.querySelector(".busy-note");
      if (!note) {
        note = document.createElement("span");
        note.className = "busy-note";
        note.setAttribute("role", "status");
        form.appendChild(note);
      }
      note.textContent = form.dataset.busy;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      if (form.id !== "reference-form") busyOnSubmit(form);
    });
    setTimeout(poll, 1500);
    var dz = document.getElementById("reference-form");
    if (dz) setupDropzone(dz);
  });
})();

// Controls that submit their form as soon as they change (the language menu). A listener here,
// not an inline onchange: the Content-Security-Policy allows no inline script.
document.addEventListener("change", function (e) {
  var el = e.target;
  if (el && el.hasAttribute && el.hasAttribute("data-submit-on-change") && el.form) el.form.submit();
});

// Copy buttons (a secret shown once, the submit helper's fields): the button copies the [data-copy]
// field next to it and says so; selecting the text stays possible when the clipboard is refused.
document.addEventListener("click", function (e) {
  var button = e.target && e.target.closest ? e.target.closest("[data-copy-button]") : null;
  if (!button) return;
  var field = button.parentElement && button.parentElement.querySelector("[data-copy]");
  if (!field) return;
  var label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  function done() {
    button.textContent = button.dataset.copied || "✓";
    setTimeout(function () { button.textContent = label; }, 2000);
  }
  field.focus();
  field.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () {
      if (document.execCommand("copy")) done();
    });
  } else if (document.execCommand("copy")) {
    done();
  }
});

// A section marked data-refresh (the webhook delivery log while a message waits to be sent) is
// fetched again every 2 s and swapped in, until it no longer says it is waiting (at most a minute).
(function () {
  function refresh(section, left) {
    if (left <= 0) return;
    setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(section.id);
          if (!fresh) return;
          section.replaceWith(fresh);
          if (fresh.hasAttribute("data-refresh")) refresh(fresh, left - 1);
        })
        .catch(function () { refresh(section, left - 1); });
    }, 2000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("section[data-refresh][id]").forEach(function (s) { refresh(s, 30); });
  });
})();
