// sentd dashboard: the only script, and every page works without it. It adds copy buttons for
// secrets shown once, and live refresh: an element with `data-live-src` is fetched again from
// that address every `data-live-every` seconds (while the tab is visible) and replaced by the
// element of the same id in the answer. It stops when the answer no longer marks it live, or
// when the answer is not the page (signed out, gone); the "Reload" link stays for the rest.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button.copy");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = "Copied";
  });
});

function sentdLive(region) {
  var every = Math.max(2, parseInt(region.getAttribute("data-live-every") || "5", 10)) * 1000;
  var note = document.querySelector('[data-live-note="' + region.id + '"]');
  function say(text) {
    if (note) {
      note.textContent = text;
      note.hidden = false;
    }
  }
  function later() {
    window.setTimeout(poll, every);
  }
  function poll() {
    if (document.hidden) return later();
    fetch(region.getAttribute("data-live-src"), {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
      headers: { Accept: "text/html" }
    })
      .then(function (answer) {
        if (answer.status !== 200) throw new Error("status " + answer.status);
        return answer.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
        if (!fresh) throw new Error("not on the page");
        // Never replace what the person is working in (a focused field or button).
        if (fresh.innerHTML !== region.innerHTML && !region.contains(document.activeElement)) {
          region.innerHTML = fresh.innerHTML;
          region.setAttribute("data-live-updated", new Date().toISOString());
        }
        if (!fresh.hasAttribute("data-live-src")) return say("Final: no more updates.");
        later();
      })
      .catch(function () {
        say("Live updates stopped; reload the page.");
      });
  }
  say("Updates itself every " + every / 1000 + " s.");
  later();
}

document.querySelectorAll("[data-live-src]").forEach(sentdLive);
