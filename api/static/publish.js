// Publish page: show the form or the text input, and check the service against the shapes while it is typed
// (POST /validate), pointing each problem at its field.
(function () {
  "use strict";
  const form = document.getElementById("publish-form");
  if (!form) return;
  const live = document.getElementById("live");
  const byForm = document.getElementById("by-form");
  const byText = document.getElementById("by-text");
  const privateFields = document.getElementById("private");
  const types = {turtle: "text/turtle", jsonld: "application/ld+json", json: "application/json",
                 ntriples: "application/n-triples", rdfxml: "application/rdf+xml"};

  function mode() { return form.querySelector("input[name=mode]:checked").value; }
  function showMode() {
    byForm.hidden = mode() !== "form";
    byText.hidden = mode() !== "text";
    privateFields.hidden = mode() !== "form";
  }

  function list(text) { return text.split(/[,;]/).map(s => s.trim()).filter(Boolean); }
  function number(text) { const n = Number(text); return text.trim() !== "" && !Number.isNaN(n) ? n : text; }
  function value(name) { const el = form.elements[name]; return el ? el.value.trim() : ""; }

  // the same plain JSON the server builds from these fields (api/web.py service_from_form)
  function documentFromForm() {
    const doc = {};
    if (value("id")) doc.id = value("id");
    for (const name of ["name", "process", "valid_until", "internal_note"]) if (value(name)) doc[name] = value(name);
    for (const name of ["max_mass_kg", "tolerance_mm", "roughness_ra_um", "capacity_per_week", "lead_time_days",
                        "internal_cost_rate", "capacity_utilisation"])
      if (value(name)) doc[name] = number(value(name));
    for (const name of ["materials", "certifications"]) if (value(name)) doc[name] = list(value(name));
    for (const name of ["envelope_mm", "batch_size"])
      if (value(name)) doc[name] = list(value(name).replace(/[x×]/g, ",")).map(number);
    if (value("price_currency") || value("price_setup") || value("price_unit"))
      doc.price = {currency: value("price_currency"), setup: number(value("price_setup") || "0"),
                   unit: number(value("price_unit") || "0")};
    const provider = {};
    for (const key of ["id", "name", "country"]) if (value("provider_" + key)) provider[key] = value("provider_" + key);
    if (value("provider_lat") || value("provider_lon"))
      provider.location = {lat: number(value("provider_lat")), lon: number(value("provider_lon"))};
    if (Object.keys(provider).length) doc.provider = provider;
    return doc;
  }

  function clearFieldErrors() {
    for (const el of form.querySelectorAll(".field.invalid")) el.classList.remove("invalid");
    for (const el of form.querySelectorAll(".error")) { if (el.id !== "e-api_key") { el.hidden = true; el.textContent = ""; } }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  function markField(field, message) {
    const input = form.elements[field];
    const error = document.getElementById("e-" + field);
    if (!input || !error) return false;
    input.closest(".field").classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
    if (!error.textContent) { error.textContent = message; error.hidden = false; }
    return true;
  }

  let timer = null;
  async function check() {
    let body, type;
    if (mode() === "form") { body = JSON.stringify(documentFromForm()); type = "application/json"; }
    else { body = form.elements.text.value; type = types[form.elements.format.value]; }
    if (!body.trim() || body === "{}") { live.hidden = true; return; }
    const response = await fetch("validate?kind=service", {method: "POST", body, headers: {"Content-Type": type}});
    const report = await response.json();
    clearFieldErrors();
    live.hidden = false;
    if (response.ok && report.conforms) {
      live.className = "notice success";
      live.textContent = "The shapes find nothing to fix.";
      return;
    }
    live.className = "notice failure";
    const items = (report.violations || []).map(v => {
      const placed = mode() === "form" && v.field && markField(v.field, v.message);
      return (v.field ? v.field + ": " : "") + v.message + (v.value ? " (found " + v.value + ")" : "") +
             (placed ? "" : "");
    });
    live.textContent = "";
    const title = document.createElement("p");
    title.textContent = response.ok ? items.length + " problem(s) to fix before publishing:" : (report.detail || "Cannot read the input.");
    live.appendChild(title);
    const ul = document.createElement("ul");
    for (const text of items) { const li = document.createElement("li"); li.textContent = text; ul.appendChild(li); }
    live.appendChild(ul);
  }

  form.addEventListener("input", event => {
    if (event.target.name === "api_key") return;
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  form.addEventListener("change", showMode);
  showMode();
})();
