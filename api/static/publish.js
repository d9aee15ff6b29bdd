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

  const german = document.documentElement.lang === "de";
  // a field shows its errors once it has been typed in or left (issue 21 item 12): not before
  const touched = new Set();
  let keyInfo = null;  // the provider the key publishes for (POST publish/provider)

  // the plain JSON field a violation names -> the form field it belongs next to
  const fieldOf = {country: "provider_country", lat: "provider_lat", lon: "provider_lon", location: "provider_lat",
                   region: "provider_lat", currency: "price_currency", setup: "price_setup", unit: "price_unit",
                   price: "price_unit", provider: "provider_id"};
  function formField(v) {
    if (!v.field) return null;
    if (v.field === "name") return (v.message || "").startsWith("provider.") ? "provider_name" : "name";
    return fieldOf[v.field] || v.field;
  }
  // the shapes' messages are English: on the German page each field's problem in German (the value found follows)
  const germanMessages = {
    name: "ist erforderlich: ein kurzer Name der Dienstleistung",
    process: "muss genau ein Verfahren der MaaS-KG-Taxonomie nennen (DIN-8580-Notation wie 3.2.3, ISO/ASTM-Kürzel wie PBF, Bezeichnung wie „Fräsen“ oder IRI)",
    materials: "muss mindestens einen Werkstoff der Werkstofftaxonomie nennen (z. B. EN AW-6061, 42CrMo4)",
    envelope_mm: "muss drei positive Längen in mm sein: x, y, z",
    max_mass_kg: "muss eine positive Masse in kg sein",
    tolerance_mm: "muss eine positive ±-Toleranz in mm sein, höchstens 10",
    roughness_ra_um: "muss eine positive Rauheit Ra in µm sein, höchstens 100",
    batch_size: "muss „min, max“ aus ganzen Zahlen sein, mit 1 ≤ min ≤ max",
    capacity_per_week: "muss eine positive Stückzahl pro Woche sein",
    lead_time_days: "muss eine Anzahl Tage sein, 0 oder mehr",
    price_currency: "ist erforderlich: ein ISO-4217-Code in Großbuchstaben, z. B. EUR",
    price_setup: "muss ein Betrag sein, 0 oder mehr",
    price_unit: "ist erforderlich: ein Preis pro Stück, 0 oder mehr",
    certifications: "müssen aus dem Vokabular sein (ISO 9001, ISO 14001, IATF 16949, AS9100, ISO 13485, ISO 45001, ISO 50001, ISO 3834, EN 1090, Nadcap)",
    valid_until: "muss ein Datum sein (JJJJ-MM-TT)",
    provider_name: "ist erforderlich: der Name des Anbieters",
    provider_country: "muss ein ISO-3166-1-Code aus zwei Großbuchstaben sein, z. B. DE",
    provider_lat: "muss eine geografische Breite in Dezimalgrad sein, von -90 bis 90 (Breite und Länge des Standorts sind erforderlich)",
    provider_lon: "muss eine geografische Länge in Dezimalgrad sein, von -180 bis 180",
    internal_cost_rate: "muss ein Betrag pro Stunde sein, 0 oder mehr",
    capacity_utilisation: "muss ein Anteil von 0 bis 1 sein",
    internal_note: "muss ein Text sein"};

  function labelOf(field) {
    const label = form.querySelector("label[for='f-" + field + "']");
    return label ? label.textContent.trim() : field;
  }
  // "<label>: <what to fix>", without the JSON name the shapes' message starts with (the label says it)
  function phrased(field, v) {
    let text = v.message || "";
    if (german && germanMessages[field]) text = germanMessages[field];
    else text = text.replace(/^[a-z_]+(?:\.[a-z_]+)*(?:\[\])?(?:\.[a-z_]+)*\s+(?=must |is |are |of )/, "");
    const found = v.value ? (german ? " (gefunden: " : " (found ") + v.value + ")" : "";
    return labelOf(field) + ": " + text + found;
  }

  function clearFieldErrors() {
    for (const el of form.querySelectorAll(".field.invalid")) el.classList.remove("invalid");
    for (const el of form.querySelectorAll(".error")) { if (el.id !== "e-api_key") { el.hidden = true; el.textContent = ""; } }
    for (const el of form.querySelectorAll("[aria-invalid]")) { if (el.name !== "api_key") el.removeAttribute("aria-invalid"); }
  }

  function markField(field, message) {
    const input = form.elements[field];
    const error = document.getElementById("e-" + field);
    if (!input || !error || !input.closest) return false;
    if (!touched.has(field)) return true;  // placed, but not shown before the field is touched
    input.closest(".field").classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-errormessage", "e-" + field);
    if (!error.textContent) { error.textContent = message; error.hidden = false; }
    return true;
  }

  // what the server would refuse with 403: a provider or an IRI this key may not publish for
  function keyRefusals() {
    const found = [];
    if (!keyInfo || keyInfo.admin || mode() !== "form") return found;
    const provider = value("provider_id");
    if (provider && provider !== keyInfo.provider)
      found.push({field: "provider_id", message: german
        ? "Dieser Schlüssel darf nicht für diesen Anbieter veröffentlichen (er gehört zu " + keyInfo.provider + ")"
        : "this key may not publish for that provider (it belongs to " + keyInfo.provider + ")"});
    const id = value("id");
    if (id && !keyInfo.namespaces.some(prefix => id.startsWith(prefix) && id.length > prefix.length))
      found.push({field: "id", message: german
        ? "Dieser Schlüssel darf nur IRIs unter " + keyInfo.namespaces.join(", ") + " veröffentlichen"
        : "this key may only publish IRIs under " + keyInfo.namespaces.join(", ")});
    return found;
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
    const refusals = keyRefusals();
    for (const r of refusals) { touched.add(r.field); markField(r.field, labelOf(r.field) + ": " + r.message); }
    if (response.ok && report.conforms && !refusals.length) {
      live.className = "notice success";
      live.textContent = german ? "Die Prüfung findet nichts zu beheben." : "The shapes find nothing to fix.";
      return;
    }
    live.className = "notice failure";
    const unplaced = [];
    let waiting = 0;
    for (const v of (response.ok ? report.violations || [] : [])) {
      const field = mode() === "form" ? formField(v) : null;
      if (field && form.elements[field] && document.getElementById("e-" + field)) {
        markField(field, phrased(field, v));
        if (!touched.has(field)) waiting += 1;
      } else {
        unplaced.push((v.field ? v.field + ": " : "") + v.message + (v.value ? " (found " + v.value + ")" : ""));
      }
    }
    const problems = (response.ok ? (report.violations || []).length : 0) + refusals.length;
    live.textContent = "";
    const title = document.createElement("p");
    title.textContent = !response.ok ? (report.detail || "Cannot read the input.")
      : german ? problems + " Problem(e) vor dem Veröffentlichen zu beheben" + (waiting ? " (" + waiting + " in noch nicht ausgefüllten Feldern)" : "") + (unplaced.length ? ":" : ".")
      : problems + " problem(s) to fix before publishing" + (waiting ? " (" + waiting + " in fields not filled yet)" : "") + (unplaced.length ? ":" : ".");
    live.appendChild(title);
    if (unplaced.length) {
      const ul = document.createElement("ul");
      for (const text of unplaced) { const li = document.createElement("li"); li.textContent = text; ul.appendChild(li); }
      live.appendChild(ul);
    }
  }

  // the key names the provider: fill the provider fields that are empty, and remember what the key may publish
  async function lookUpKey() {
    const data = new FormData();
    data.append("api_key", value("api_key"));
    const response = await fetch(form.dataset.providerUrl, {method: "POST", body: data});
    if (!response.ok) { keyInfo = null; return; }
    const answer = await response.json();
    keyInfo = answer.key;
    for (const [name, text] of Object.entries(answer.fields || {})) {
      const input = form.elements[name];
      // never into a field being typed in or typed in before
      if (input && !input.value.trim() && !touched.has(name) && document.activeElement !== input) input.value = text;
    }
    check();
  }

  let keyTimer = null;
  form.addEventListener("input", event => {
    if (event.target.name === "api_key") {
      clearTimeout(keyTimer);
      keyTimer = setTimeout(lookUpKey, 300);
      return;
    }
    if (event.target.name) touched.add(event.target.name);
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  form.addEventListener("focusout", event => {
    const name = event.target.name;
    if (!name || name === "api_key" || touched.has(name) || !event.target.value) return;
    touched.add(name);
    clearTimeout(timer);
    timer = setTimeout(check, 100);
  });
  if (form.dataset.signedIn) lookUpKey();
  // what the server refused stays shown until it is changed
  for (const el of form.querySelectorAll(".field.invalid [name]")) touched.add(el.name);
  form.addEventListener("change", showMode);
  showMode();
})();
