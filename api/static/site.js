// Every page: a table that scrolls sideways in its own box (narrow screens) becomes a keyboard stop, so that it can be
// scrolled without a mouse (axe-core: scrollable-region-focusable); one that fits is no extra stop.
(function () {
  function mark() {
    document.querySelectorAll("table.results, .match-scroll").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.dataset.scrollStop = "1";
      } else if (!scrolls && box.dataset.scrollStop) {
        box.removeAttribute("tabindex");
        delete box.dataset.scrollStop;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
  new MutationObserver(mark).observe(document.documentElement, {childList: true, subtree: true});
})();
