// poddarkiv player sync: highlight the segment being played, follow it (unless switched off),
// seek when a segment is clicked, honour #t-N and ?t=N, keep the citation at the chosen time.
// The page works without this script: every segment is a plain link to ?t=N.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var list = document.getElementById("transcript");
  if (!audio || !list) { return; }
  var items = Array.prototype.slice.call(list.querySelectorAll("li[data-start]"));
  var starts = items.map(function (li) { return parseFloat(li.getAttribute("data-start")); });
  var follow = document.getElementById("follow");
  var current = -1;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function remembered(value) {  // storage may be switched off; following then resets
    try {
      if (value === undefined) { return localStorage.getItem("poddarkiv.follow"); }
      localStorage.setItem("poddarkiv.follow", value);
    } catch (e) { return null; }
    return value;
  }

  if (follow) {
    follow.parentNode.hidden = false;  // the toggle only means something with this script
    follow.checked = remembered() !== "off";
    follow.addEventListener("change", function () { remembered(follow.checked ? "on" : "off"); });
  }

  function indexAt(t) {  // the last segment starting at or before t (binary search)
    var lo = 0, hi = starts.length - 1, found = 0;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function mark(i, scroll) {
    if (i === current || !items[i]) { return; }
    if (items[current]) { items[current].classList.remove("current"); items[current].removeAttribute("aria-current"); }
    items[i].classList.add("current");
    items[i].setAttribute("aria-current", "true");
    current = i;
    if (scroll && follow && follow.checked) {
      items[i].scrollIntoView({ block: "center", behavior: reduceMotion ? "auto" : "smooth" });
    }
  }

  function timecode(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec);
  }

  var citeText = document.getElementById("cite-text");
  var citeTime = document.getElementById("cite-time");
  var citeUrl = document.getElementById("cite-url");
  function updateCitation(seconds) {
    if (!citeText || !citeTime || !citeUrl) { return; }
    var url = new URL(citeUrl.href);
    url.searchParams.set("t", String(Math.floor(seconds)));
    url.hash = "";
    var newTime = timecode(seconds);
    citeText.textContent = citeText.textContent.split(citeUrl.textContent).join(url.href)
      .split(citeTime.textContent).join(newTime);
    citeTime.textContent = newTime;
    citeUrl.href = url.href;
    citeUrl.textContent = url.href;
  }

  function seek(seconds, play) {
    audio.currentTime = seconds;
    mark(indexAt(seconds), false);
    updateCitation(seconds);
    if (play) { audio.play().catch(function () { /* autoplay refused: the user presses play */ }); }
  }

  audio.addEventListener("timeupdate", function () { mark(indexAt(audio.currentTime), true); });

  list.addEventListener("click", function (event) {
    var li = event.target.closest("li[data-start]");
    if (!li || (window.getSelection && String(window.getSelection()).length > 0)) { return; }
    event.preventDefault();
    var t = parseFloat(li.getAttribute("data-start"));
    seek(t, true);
    history.replaceState(null, "", "?t=" + Math.floor(t) + "#t-" + Math.floor(t));
  });

  var copy = document.getElementById("cite-copy");
  if (copy && navigator.clipboard && citeText) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(citeText.textContent).then(function () {
        document.getElementById("cite-copied").textContent = copy.getAttribute("data-done");
      });
    });
  }

  // Where to start: #t-N wins over ?t=N (a segment link), else the server's data-start.
  var hash = /^#t-(\d+(?:\.\d+)?)$/.exec(location.hash);
  var start = hash ? parseFloat(hash[1]) : parseFloat(audio.getAttribute("data-start") || "NaN");
  if (!isNaN(start)) {
    var apply = function () { seek(start, false); };
    if (audio.readyState >= 1) { apply(); } else { audio.addEventListener("loadedmetadata", apply, { once: true }); }
    mark(indexAt(start), false);
  }
})();
