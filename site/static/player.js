// poddarkiv player sync: highlight the segment being played, follow it (unless switched off, and
// pausing while the reader scrolls elsewhere), seek when a segment is clicked, honour #t-N and
// ?t=N, keep the citation at the chosen time, ±15 s, speed, keyboard shortcuts, share a moment.
// The page works without this script: every segment is a plain link to ?t=N.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var list = document.getElementById("transcript");
  if (!audio || !list) { return; }
  var items = Array.prototype.slice.call(list.querySelectorAll("li[data-start]"));
  var starts = items.map(function (li) { return parseFloat(li.getAttribute("data-start")); });
  var follow = document.getElementById("follow");
  var resume = document.getElementById("follow-resume");
  var current = -1;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  // Following pauses when the reader scrolls; our own scrolling must not count as theirs.
  var pausedByReader = false;
  var ownScrollUntil = 0;
  var OWN_SCROLL_MS = 1200;

  function remembered(value, key) {  // storage may be switched off; the choice then resets
    key = key || "poddarkiv.follow";
    try {
      if (value === undefined) { return localStorage.getItem(key); }
      localStorage.setItem(key, value);
    } catch (e) { return null; }
    return value;
  }

  if (follow) {
    follow.parentNode.hidden = false;  // the toggle only means something with this script
    follow.checked = remembered() !== "off";
    follow.addEventListener("change", function () { remembered(follow.checked ? "on" : "off"); });
  }

  function following() { return follow && follow.checked && !pausedByReader; }

  function indexAt(t) {  // the last segment starting at or before t (binary search)
    var lo = 0, hi = starts.length - 1, found = 0;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t + 0.0005) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function scrollTo(li) {
    ownScrollUntil = Date.now() + OWN_SCROLL_MS;
    li.scrollIntoView({ block: "center", behavior: reduceMotion ? "auto" : "smooth" });
  }

  var shareButton = null;
  function mark(i, scroll) {
    if (i === current || !items[i]) { return; }
    if (items[current]) { items[current].classList.remove("current"); items[current].removeAttribute("aria-current"); }
    items[i].classList.add("current");
    items[i].setAttribute("aria-current", "true");
    current = i;
    if (shareButton) { items[i].appendChild(shareButton); }
    if (scroll && following()) { scrollTo(items[i]); }
  }

  function readerScrolled() {
    if (Date.now() < ownScrollUntil || audio.paused || !follow || !follow.checked) { return; }
    pausedByReader = true;
    if (resume) { resume.hidden = false; }
  }
  window.addEventListener("wheel", readerScrolled, { passive: true });
  window.addEventListener("touchmove", readerScrolled, { passive: true });
  window.addEventListener("scroll", readerScrolled, { passive: true });
  if (resume) {
    resume.addEventListener("click", function () {
      pausedByReader = false;
      resume.hidden = true;
      if (items[current]) { scrollTo(items[current]); }
    });
  }

  function timecode(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec);
  }

  function linkTime(t) {  // as the server writes it: milliseconds at most, no trailing zeros
    return String(Math.round(Math.max(0, t) * 1000) / 1000);
  }

  function momentUrl(seconds) {
    var url = new URL(location.href);
    url.searchParams.set("t", linkTime(seconds));
    url.searchParams.delete("lang");
    url.hash = "";
    return url.href;
  }

  var citeText = document.getElementById("cite-text");
  var citeTime = document.getElementById("cite-time");
  var citeUrl = document.getElementById("cite-url");
  var citeQuote = document.getElementById("cite-quote");
  function updateCitation(seconds, i) {
    if (!citeText || !citeTime || !citeUrl) { return; }
    var href = momentUrl(seconds), newTime = timecode(seconds), text = citeText.textContent;
    text = text.split(citeUrl.textContent).join(href).split(citeTime.textContent).join(newTime);
    if (citeQuote && items[i]) {
      var said = items[i].querySelector(".text").textContent.replace(/\s+/g, " ").trim();
      text = text.split(citeQuote.textContent).join(said);
      citeQuote.textContent = said;
    }
    citeText.textContent = text;
    citeTime.textContent = newTime;
    citeUrl.href = href;
    citeUrl.textContent = href;
  }

  function seek(seconds, play) {
    audio.currentTime = seconds;
    var i = indexAt(seconds);
    mark(i, false);
    updateCitation(seconds, i);
    if (play) { audio.play().catch(function () { /* autoplay refused: the user presses play */ }); }
  }

  audio.addEventListener("timeupdate", function () { mark(indexAt(audio.currentTime), true); });

  list.addEventListener("click", function (event) {
    // a button, or a link other than the time (a correction's mark, the admin's "Rätta")
    if (event.target.closest("button, a:not(.time)")) { return; }
    var li = event.target.closest("li[data-start]");
    if (!li || (window.getSelection && String(window.getSelection()).length > 0)) { return; }
    event.preventDefault();
    var t = parseFloat(li.getAttribute("data-start"));
    pausedByReader = false;
    if (resume) { resume.hidden = true; }
    seek(t, true);
    history.replaceState(null, "", "?t=" + linkTime(t) + "#t-" + linkTime(t));
  });

  function copied(button, text, done) {
    navigator.clipboard.writeText(text).then(function () {
      var status = document.getElementById("cite-copied");
      if (status) { status.textContent = done; }
    });
  }

  var copy = document.getElementById("cite-copy");
  if (copy && navigator.clipboard && citeText) {
    copy.hidden = false;
    copy.addEventListener("click", function () { copied(copy, citeText.textContent, copy.getAttribute("data-done")); });
  }

  // Share from this moment: one button, in the marked passage, copies the link to its start.
  if (navigator.clipboard && list.getAttribute("data-share")) {
    shareButton = document.createElement("button");
    shareButton.type = "button";
    shareButton.className = "share";
    shareButton.textContent = list.getAttribute("data-share");
    shareButton.addEventListener("click", function () {
      var li = shareButton.closest("li[data-start]");
      if (li) { copied(shareButton, momentUrl(parseFloat(li.getAttribute("data-start"))), list.getAttribute("data-shared")); }
    });
    if (items[current]) { items[current].appendChild(shareButton); }
  }

  // ±15 s, speed, and keyboard shortcuts (documented on the help page): j, k, l, <, >.
  var controls = document.getElementById("player-controls");
  var speed = document.getElementById("speed");
  function skip(by) { seek(Math.min(Math.max(audio.currentTime + by, 0), audio.duration || Infinity), false); }
  function setRate(value) { audio.playbackRate = value; if (speed) { speed.value = String(value); } }
  if (controls) {
    controls.hidden = false;
    controls.addEventListener("click", function (event) {
      var b = event.target.closest("button[data-skip]");
      if (b) { skip(parseFloat(b.getAttribute("data-skip"))); }
    });
  }
  if (speed) { speed.addEventListener("change", function () { setRate(parseFloat(speed.value)); }); }
  var RATES = [0.75, 1, 1.25, 1.5, 2];
  function stepRate(direction) {
    var i = RATES.indexOf(audio.playbackRate);
    setRate(RATES[Math.min(Math.max((i < 0 ? 1 : i) + direction, 0), RATES.length - 1)]);
  }
  // WCAG 2.1.4: single-key shortcuts can be switched off (and the choice is remembered).
  var shortcuts = document.getElementById("shortcuts");
  if (shortcuts) {
    shortcuts.checked = remembered(undefined, "poddarkiv.shortcuts") !== "off";
    shortcuts.addEventListener("change", function () {
      remembered(shortcuts.checked ? "on" : "off", "poddarkiv.shortcuts");
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (shortcuts && !shortcuts.checked) { return; }
    if (event.target.closest && event.target.closest("input, select, textarea, button, audio, [contenteditable]")) { return; }
    var actions = {
      "j": function () { skip(-15); },
      "l": function () { skip(15); },
      "k": function () { if (audio.paused) { audio.play().catch(function () {}); } else { audio.pause(); } },
      "<": function () { stepRate(-1); },
      ">": function () { stepRate(1); }
    };
    var action = actions[event.key];
    if (action) { event.preventDefault(); action(); }
  });

  // Where to start: #t-N wins over ?t=N (a segment link), else the server's data-start.
  var hash = /^#t-(\d+(?:\.\d+)?)$/.exec(location.hash);
  var start = hash ? parseFloat(hash[1]) : parseFloat(audio.getAttribute("data-start") || "NaN");
  if (!isNaN(start)) {
    var apply = function () { seek(start, false); };
    if (audio.readyState >= 1) { apply(); } else { audio.addEventListener("loadedmetadata", apply, { once: true }); }
    mark(indexAt(start), false);
    // An older whole-second link (#t-13) names no element: show the passage playing then.
    if (hash && !document.getElementById(location.hash.slice(1)) && items[current]) {
      items[current].scrollIntoView({ block: "center" });
    }
  }
})();
