// SPARQL page: picking an example puts its text into the editor.
(function () {
  "use strict";
  const examples = document.getElementById("f-example");
  const editor = document.getElementById("f-query");
  if (!examples || !editor) return;
  examples.addEventListener("change", () => {
    const option = examples.selectedOptions[0];
    if (option && option.dataset.query) { editor.value = option.dataset.query; editor.focus(); }
  });
})();
