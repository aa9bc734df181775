// Quick exit: leave at once, without leaving this page in the back history.
(function () {
  function quickExit(event) {
    if (event) event.preventDefault();
    var link = document.getElementById("quick-exit");
    document.body.innerHTML = "";
    document.title = "Weather";
    window.location.replace(link ? link.href : "/exit/");
  }
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

  // Live progress: poll the server-rendered fragment until every link reaches a final state.
  function poll() {
    var box = document.getElementById("progress");
    if (!box || !box.dataset.poll) return;
    fetch(box.dataset.poll, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.firstElementChild;
        box.replaceWith(fresh);
        if (fresh.dataset.poll) { setTimeout(poll, 1500); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () { setTimeout(poll, 1500); });
})();
