// Resilience page: an event's marker on the map ticks or unticks its checkbox (and shows whether it is ticked);
// choosing, uploading or typing a value chain selects its source, and the map shows that chain's supplier sites.
(function () {
  "use strict";
  const form = document.getElementById("resilience-form");
  if (!form) return;

  function markers(id) {
    return [...document.querySelectorAll(".event-marker")].filter(m => m.dataset.event === id);
  }
  function show(box) {
    for (const marker of markers(box.value)) {
      marker.classList.toggle("chosen", box.checked);
      marker.setAttribute("aria-checked", box.checked ? "true" : "false");
    }
  }
  const boxes = [...form.querySelectorAll("input[name=library_events]")];
  for (const box of boxes) {
    box.addEventListener("change", () => show(box));
    show(box);  // the browser may restore ticks on "back"
  }
  for (const marker of document.querySelectorAll(".event-marker")) {
    const toggle = () => {
      const box = boxes.find(b => b.value === marker.dataset.event);
      if (!box) return;
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", {bubbles: true}));
    };
    marker.addEventListener("click", toggle);
    marker.addEventListener("keydown", event => {
      if (event.key === " " || event.key === "Enter") { event.preventDefault(); toggle(); }
    });
  }

  const example = document.getElementById("f-example");
  const source = value => document.getElementById("f-source-" + value);
  function showSites() {
    const chosen = form.querySelector("input[name=source]:checked");
    const group = chosen && chosen.value === "example" ? "example-" + example.value : "current";
    for (const sites of document.querySelectorAll(".event-map .sites")) {
      sites.classList.toggle("off", sites.dataset.group !== group);
    }
  }
  example.addEventListener("change", () => { source("example").checked = true; showSites(); });
  document.getElementById("f-file").addEventListener("change", () => { source("file").checked = true; showSites(); });
  document.getElementById("f-value_chain").addEventListener("input", () => {
    source("paste").checked = true;
    showSites();
  });
  for (const radio of form.querySelectorAll("input[name=source]")) radio.addEventListener("change", showSites);
})();
