/* cmq-graph atlas of France's campuses.
 *
 * Every string shown comes from the data, which may be hostile: read from a JSON script element
 * (never evaluated) and put on the page with textContent, DOM nodes and attributes only, never
 * innerHTML. The filtered view lives in the URL's hash, so a view can be shared.
 */
(function () {
  "use strict";

  var t0 = performance.now();
  var D = JSON.parse(document.getElementById("atlas-data").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var CAMPUS_COLOUR = "#D55E00";
  // Sequential (light to dark) and categorical (Okabe–Ito) palettes: both colour-blind safe.
  var SEQ = ["#f0f0f0", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];
  var CAT = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function key(item) { return String(item.iri).replace(/\/+$/, "").split("/").pop(); }
  function normalise(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // -- campuses: place, first labelling, end of label, mentions --------------------------------

  var geoDeps = {};
  D.geo.departements.forEach(function (d) { geoDeps[d.code] = d; });
  var overseasByRegion = {};
  D.overseas.forEach(function (o) { overseasByRegion[o.region] = o; });
  var drawnRegion = {};
  D.geo.departements.forEach(function (d) { drawnRegion[d.region] = true; });
  D.overseas.forEach(function (o) { drawnRegion[o.region] = true; });

  D.campuses.forEach(function (c, i) {
    c.i = i;
    // Current région: one that is drawn (a merged, former région has no outline).
    var regs = c.regions.filter(function (r) { return drawnRegion[D.regions[r].code]; });
    c.region = regs.length ? regs[0] : (c.regions.length ? c.regions[0] : null);
    c.regionCode = c.region === null ? "" : D.regions[c.region].code;
    var deps = c.departements.filter(function (d) { return geoDeps[D.departements[d].code]; });
    c.depCode = deps.length ? D.departements[deps[0]].code : "";
    if (!c.depCode && c.regionCode && overseasByRegion[c.regionCode]) c.depCode = overseasByRegion[c.regionCode].departement;
    var dated = c.labels.filter(function (l) { return l.date; }).map(function (l) { return l.date; }).sort();
    c.first = dated.length ? dated[0].slice(0, 4) : "";
    var ends = c.labels.map(function (l) { return l.end; }).filter(Boolean).sort();
    c.end = ends.length ? ends[ends.length - 1] : "";
    c.mentions = [];
    c.labels.forEach(function (l) { if (l.mention !== null && c.mentions.indexOf(l.mention) < 0) c.mentions.push(l.mention); });
    c.search = normalise([c.name].concat(c.alt, c.acronym, [c.id]).join(" | "));
  });
  var today = D.today;
  function monthsAhead(date, months) {
    var y = Number(date.slice(0, 4)), m = Number(date.slice(5, 7)) + months;
    y += Math.floor((m - 1) / 12); m = ((m - 1) % 12) + 1;
    return String(y) + "-" + (m < 10 ? "0" : "") + m + date.slice(7);
  }
  var horizon = monthsAhead(today, 12);
  function expired(c) { return c.end !== "" && c.end < today.slice(0, c.end.length); }
  function expiring(c) { return c.end !== "" && !expired(c) && c.end <= horizon.slice(0, c.end.length); }

  // -- state, filters and the URL ----------------------------------------------------------------

  var FILTERS = [
    { name: "filiere", select: "f-filiere", items: D.filieres, label: "Filière",
      test: function (c, i) { return c.filieres.indexOf(i) >= 0; } },
    { name: "secteur", select: "f-sector", items: D.sectors, label: "Secteur",
      test: function (c, i) { return c.sectors.indexOf(i) >= 0; } },
    { name: "region", select: "f-region", items: D.regions, label: "Région",
      test: function (c, i) { return c.regions.indexOf(i) >= 0; } },
    { name: "academie", select: "f-academie", items: D.academies, label: "Académie",
      test: function (c, i) { return c.academies.indexOf(i) >= 0; } },
    { name: "mention", select: "f-mention", items: D.mentions, label: "Mention",
      test: function (c, i) { return c.mentions.indexOf(i) >= 0; } }
  ];
  var years = {};
  D.campuses.forEach(function (c) { if (c.first) years[c.first] = true; });
  var yearItems = Object.keys(years).sort().map(function (y) { return { iri: y, label: y }; });
  FILTERS.push({ name: "annee", select: "f-year", items: yearItems, label: "1re labellisation",
    test: function (c, i) { return c.first === yearItems[i].iri; } });

  var state = { measure: "count", level: "region", area: "", campus: "" };
  FILTERS.forEach(function (f) { state[f.name] = ""; });

  FILTERS.forEach(function (f) {
    var select = document.getElementById(f.select);
    var order = f.items.map(function (item, i) { return i; });
    if (f.name !== "annee") order.sort(function (a, b) { return String(f.items[a].label).localeCompare(String(f.items[b].label), "fr"); });
    order.forEach(function (i) {
      var item = f.items[i];
      if (item.end) return; // former territories: not offered as a filter
      var option = el("option", null, item.label);
      option.value = key(item);
      select.appendChild(option);
    });
    select.disabled = f.items.length === 0;
    select.addEventListener("change", function () { state[f.name] = select.value; update(true); });
  });
  ["measure", "level"].forEach(function (name) {
    var select = document.getElementById("f-" + name);
    select.addEventListener("change", function () { state[name] = select.value; state.area = ""; update(true); });
  });

  function readHash() {
    var h = window.location.hash.replace(/^#/, "");
    Object.keys(state).forEach(function (k) { state[k] = k === "measure" ? "count" : k === "level" ? "region" : ""; });
    h.split("&").forEach(function (part) {
      var kv = part.split("=");
      if (kv.length === 2 && Object.prototype.hasOwnProperty.call(state, kv[0])) {
        try { state[kv[0]] = decodeURIComponent(kv[1]); } catch (e) { /* a broken hash is ignored */ }
      }
    });
  }
  function writeHash() {
    var parts = [];
    Object.keys(state).forEach(function (k) {
      var dflt = k === "measure" ? "count" : k === "level" ? "region" : "";
      if (state[k] !== dflt) parts.push(k + "=" + encodeURIComponent(state[k]));
    });
    var h = parts.length ? "#" + parts.join("&") : "";
    if (window.location.hash !== h) history.replaceState(null, "", h || window.location.pathname);
  }
  function indexOfKey(items, k) {
    for (var i = 0; i < items.length; i++) if (key(items[i]) === k) return i;
    return -1;
  }

  function filtered() {
    var active = FILTERS.filter(function (f) { return state[f.name] !== ""; }).map(function (f) {
      return { f: f, i: indexOfKey(f.items, state[f.name]) };
    });
    return D.campuses.filter(function (c) {
      return active.every(function (a) { return a.i >= 0 && a.f.test(c, a.i); });
    });
  }

  // -- the map -------------------------------------------------------------------------------

  var map = document.getElementById("map");
  map.setAttribute("viewBox", "-5 -5 623 600");
  var areaLayer = svg("g", {});
  var dotLayer = svg("g", {});
  map.appendChild(areaLayer);
  map.appendChild(dotLayer);
  var depPaths = {};
  D.geo.departements.forEach(function (d) {
    var p = svg("path", { d: d.path, "class": "area", tabindex: "0", role: "button" });
    p.addEventListener("click", function () { selectArea(areaKey(d.code, d.region)); });
    p.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); selectArea(areaKey(d.code, d.region)); }
    });
    areaLayer.appendChild(p);
    depPaths[d.code] = p;
  });
  // Overseas régions as insets (no outline in the vendored source): a labelled box each.
  var insets = {};
  D.overseas.forEach(function (o, k) {
    var x = 2 + k * 62, y = 545;
    var g = svg("g", {});
    var r = svg("rect", { x: x, y: y, width: 58, height: 38, rx: 3, "class": "inset area", tabindex: "0", role: "button" });
    r.addEventListener("click", function () { selectArea(areaKey(o.departement, o.region)); });
    r.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); selectArea(areaKey(o.departement, o.region)); }
    });
    var label = svg("text", { x: x + 3, y: y + 9, "class": "inset-label" });
    label.textContent = o.label;
    g.appendChild(r);
    g.appendChild(label);
    areaLayer.appendChild(g);
    insets[o.departement] = r;
    depPaths[o.departement] = r;
  });

  function areaKey(depCode, regionCode) { return state.level === "region" ? "r" + regionCode : "d" + depCode; }
  function regionOfDep(code) {
    if (geoDeps[code]) return geoDeps[code].region;
    var o = D.overseas.filter(function (x) { return x.departement === code; })[0];
    return o ? o.region : "";
  }
  function regionName(code) {
    for (var i = 0; i < D.regions.length; i++) if (D.regions[i].code === code && !D.regions[i].end) return D.regions[i].label;
    var o = overseasByRegion[code];
    return o ? o.label : "Région " + code;
  }
  function depName(code) {
    if (geoDeps[code]) return geoDeps[code].name + " (" + code + ")";
    var o = D.overseas.filter(function (x) { return x.departement === code; })[0];
    return o ? o.label : code;
  }
  function areaName(k) { return k.charAt(0) === "r" ? regionName(k.slice(1)) : depName(k.slice(1)); }
  function campusArea(c) {
    if (state.level === "region") return c.regionCode && drawnRegion[c.regionCode] ? "r" + c.regionCode : "";
    return c.depCode ? "d" + c.depCode : "";
  }

  // Where each campus sits: its département's centre, else its région's, spread in a sunflower.
  var centres = {};
  function bboxCentre(nodes) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    nodes.forEach(function (n) {
      var b = n.getBBox();
      x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y); x1 = Math.max(x1, b.x + b.width); y1 = Math.max(y1, b.y + b.height);
    });
    return [(x0 + x1) / 2, (y0 + y1) / 2];
  }
  function anchorOf(c) {
    if (c.depCode && depPaths[c.depCode]) return "d" + c.depCode;
    if (c.regionCode && drawnRegion[c.regionCode]) return "r" + c.regionCode;
    return "";
  }
  function centreOf(anchor) {
    if (centres[anchor]) return centres[anchor];
    var code = anchor.slice(1);
    var nodes = anchor.charAt(0) === "d" ? [depPaths[code]] :
      (overseasByRegion[code] ? [insets[overseasByRegion[code].departement]] :
        D.geo.departements.filter(function (d) { return d.region === code; }).map(function (d) { return depPaths[d.code]; }));
    centres[anchor] = bboxCentre(nodes);
    return centres[anchor];
  }
  var dots = [];
  var perAnchor = {};
  var DOT = D.campuses.length <= 300 ? 4 : 2.6; // fewer campuses, bigger dots

  D.campuses.forEach(function (c) {
    var anchor = anchorOf(c);
    if (!anchor) { dots.push(null); return; }
    var k = perAnchor[anchor] = (perAnchor[anchor] || 0) + 1;
    var centre = centreOf(anchor);
    var angle = k * 2.399963, radius = 1.2 * DOT * Math.sqrt(k - 1);
    var cls = "dot" + (c.mentions.length ? " mention" : "") + (expired(c) ? " expired" : "");
    var dot = svg("circle", { cx: (centre[0] + radius * Math.cos(angle)).toFixed(1),
      cy: (centre[1] + radius * Math.sin(angle)).toFixed(1), r: String(DOT), "class": cls });
    var title = svg("title", {});
    title.textContent = c.name + (expired(c) ? " — label échu le " + c.end : "");
    dot.appendChild(title);
    dot.addEventListener("click", function (event) { event.stopPropagation(); openCampus(c.i); });
    dotLayer.appendChild(dot);
    dots.push(dot);
  });

  // -- choropleth ------------------------------------------------------------------------------

  function themes(c) {
    // Filières when the data states them, else sectors.
    return D.filieres.length ? c.filieres.map(function (i) { return D.filieres[i].label; })
      : c.sectors.map(function (i) { return D.sectors[i].label; });
  }
  function colourAreas(list) {
    var byArea = {};
    list.forEach(function (c) {
      var a = campusArea(c);
      if (!a) return;
      (byArea[a] = byArea[a] || []).push(c);
    });
    var legend = document.getElementById("legend");
    legend.replaceChildren();
    var fill = {};
    if (state.measure === "count") {
      var max = 0;
      Object.keys(byArea).forEach(function (a) { max = Math.max(max, byArea[a].length); });
      var steps = [0, 1, Math.max(2, Math.ceil(max / 4)), Math.max(3, Math.ceil(max / 2)), Math.max(4, Math.ceil(3 * max / 4))];
      var cls = function (n) { var s = 0; for (var i = 1; i < steps.length; i++) if (n >= steps[i]) s = i; return s; };
      Object.keys(byArea).forEach(function (a) { fill[a] = SEQ[cls(byArea[a].length)]; });
      legend.appendChild(el("span", "key", "Nombre de campus : "));
      steps.forEach(function (s, i) {
        if (i && s === steps[i - 1]) return;
        var item = el("span");
        var sw = el("span", "swatch"); sw.style.background = SEQ[i];
        item.appendChild(sw);
        item.appendChild(document.createTextNode(i === 0 ? "0" : "≥ " + s));
        legend.appendChild(item);
      });
    } else {
      var totals = {};
      list.forEach(function (c) { themes(c).forEach(function (t) { totals[t] = (totals[t] || 0) + 1; }); });
      var ranked = Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a] || a.localeCompare(b, "fr"); });
      var colourOf = {};
      ranked.forEach(function (t, i) { colourOf[t] = i < CAT.length - 1 ? CAT[i] : "#999999"; });
      Object.keys(byArea).forEach(function (a) {
        var counts = {};
        byArea[a].forEach(function (c) { themes(c).forEach(function (t) { counts[t] = (counts[t] || 0) + 1; }); });
        var best = Object.keys(counts).sort(function (x, y) { return counts[y] - counts[x] || ranked.indexOf(x) - ranked.indexOf(y); })[0];
        fill[a] = best ? colourOf[best] : SEQ[0];
      });
      legend.appendChild(el("span", "key", "Filière (ou secteur) la plus représentée : "));
      var used = {};
      Object.keys(fill).forEach(function (a) { used[fill[a]] = true; });
      ranked.slice(0, CAT.length - 1).filter(function (t) { return used[colourOf[t]]; }).forEach(function (t) {
        var item = el("span");
        var sw = el("span", "swatch"); sw.style.background = colourOf[t];
        item.appendChild(sw);
        item.appendChild(document.createTextNode(t));
        legend.appendChild(item);
      });
      if (ranked.length >= CAT.length && used["#999999"]) {
        var other = el("span"); var sw2 = el("span", "swatch"); sw2.style.background = "#999999";
        other.appendChild(sw2); other.appendChild(document.createTextNode("autres")); legend.appendChild(other);
      }
    }
    var legendDots = el("span", "hint", " · Point : un campus (cerclé de noir : mention ; creux en pointillés : label échu)");
    legend.appendChild(legendDots);
    Object.keys(depPaths).forEach(function (code) {
      var a = areaKey(code, regionOfDep(code));
      var node = depPaths[code];
      node.style.fill = fill[a] || SEQ[0];
      var n = (byArea[a] || []).length;
      node.setAttribute("aria-label", areaName(a) + " : " + n + " campus");
      node.classList.toggle("selected", state.area === a);
    });
    return byArea;
  }

  // -- panels: an area's campuses, a campus's fiche ----------------------------------------------

  function selectArea(a) {
    state.area = state.area === a ? "" : a;
    state.campus = "";
    update(true);
  }

  function campusButton(c) {
    var b = el("button", "link", c.name);
    b.type = "button";
    b.addEventListener("click", function () { openCampus(c.i); });
    return b;
  }

  function showArea(list, byArea) {
    var box = document.getElementById("area");
    box.replaceChildren();
    if (!state.area) {
      box.appendChild(el("p", "hint", "Cliquez une région ou un département (ou Tab puis Entrée) pour voir ses campus."));
      var unplaced = list.filter(function (c) { return !anchorOf(c); });
      if (unplaced.length) {
        box.appendChild(el("h3", null, "Campus sans lieu connu (" + unplaced.length + ")"));
        box.appendChild(el("p", "hint", "Ni territoire, ni site, ni pilote rattaché à une région dans les données : ils ne sont pas sur la carte."));
        var ul0 = el("ul");
        unplaced.forEach(function (c) { var li = el("li"); li.appendChild(campusButton(c)); ul0.appendChild(li); });
        box.appendChild(ul0);
      }
      return;
    }
    var here = byArea[state.area] || [];
    box.appendChild(el("h2", null, areaName(state.area) + " : " + here.length + " campus"));
    var ul = el("ul");
    here.slice().sort(function (a, b) { return a.name.localeCompare(b.name, "fr"); }).forEach(function (c) {
      var li = el("li");
      li.appendChild(campusButton(c));
      var extra = themes(c).join(", ");
      if (c.mentions.length) extra += (extra ? " · " : "") + c.mentions.map(function (m) { return D.mentions[m].label; }).join(", ");
      if (c.end) extra += (extra ? " · " : "") + (expired(c) ? "label échu le " : "label jusqu'au ") + c.end;
      if (extra) li.appendChild(el("span", "src", " — " + extra));
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function row(container, k, v) {
    if (v === "" || v === null || v === undefined || (v.length !== undefined && v.length === 0)) return;
    var line = el("div");
    line.appendChild(el("span", "key", k + " : "));
    line.appendChild(el("span", null, Array.isArray(v) ? v.join(", ") : v));
    container.appendChild(line);
  }
  function externalLink(href, text) {
    if (!/^https?:\/\//i.test(href)) return el("span", null, text);
    var a = el("a", null, text);
    a.setAttribute("href", href);
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", "noopener noreferrer");
    a.setAttribute("title", "s'ouvre dans un nouvel onglet");
    return a;
  }
  function sourceItem(i) {
    var s = D.sources[i];
    var li = el("li");
    li.appendChild(s.url ? externalLink(s.url, s.title) : el("span", null, s.title));
    var extra = [];
    if (s.publisher) extra.push("Éditeur : " + s.publisher);
    if (s.date) extra.push("Date : " + s.date);
    if (extra.length) li.appendChild(el("span", "src", " — " + extra.join(", ")));
    return li;
  }

  function openCampus(i) {
    state.campus = i === null ? "" : D.campuses[i].id;
    update(true);
    if (i !== null) document.getElementById("fiche").focus();
  }

  function showFiche() {
    var box = document.getElementById("fiche");
    box.replaceChildren();
    dots.forEach(function (d) { if (d) d.classList.remove("current"); });
    if (!state.campus) return;
    var c = D.campuses.filter(function (x) { return x.id === state.campus; })[0];
    if (!c) return;
    if (dots[c.i]) dots[c.i].classList.add("current");
    var close = el("button", "link", "Fermer la fiche");
    close.type = "button";
    close.addEventListener("click", function () { openCampus(null); });
    box.appendChild(close);
    box.appendChild(el("h2", null, c.name));
    row(box, "Autres noms", c.alt);
    row(box, "Sigle", c.acronym);
    row(box, "Étape", c.stage);
    row(box, "Région", c.regions.map(function (r) { return D.regions[r].label + (D.regions[r].end ? " (jusqu'en " + D.regions[r].end.slice(0, 4) + ")" : ""); }));
    row(box, "Département", c.departements.map(function (d) { return D.departements[d].label; }));
    row(box, "Académie", c.academies.map(function (a) { return D.academies[a].label + (D.academies[a].end ? " (jusqu'en " + D.academies[a].end.slice(0, 4) + ")" : ""); }));
    if (c.via.length === 1 && c.via[0] === "pilote") row(box, "Lieu", "déduit du territoire de son pilote (rectorat, Région)");
    if (!anchorOf(c)) row(box, "Lieu", "inconnu dans les données");
    row(box, "Filières", c.filieres.map(function (f) { return D.filieres[f].label; }));
    row(box, "Secteurs", c.sectors.map(function (s) { return D.sectors[s].label; }));
    if (c.end) {
      var line = el("div");
      line.appendChild(el("span", "key", "Fin du label : "));
      line.appendChild(el("span", expired(c) ? "expired-text" : null, c.end + (expired(c) ? " (échu au " + today + ")" : expiring(c) ? " (échéance dans les 12 mois)" : "")));
      box.appendChild(line);
    }
    if (c.labels.length) {
      box.appendChild(el("h3", null, "Labellisations"));
      var ul = el("ul");
      c.labels.forEach(function (l) {
        var parts = [l.date || "date non connue"];
        if (l.mention !== null) parts.push(D.mentions[l.mention].label);
        if (l.call !== null) parts.push(D.calls[l.call].label);
        if (l.end) parts.push("jusqu'à " + l.end);
        var li = el("li", null, parts.join(" · "));
        if (l.src !== null) li.appendChild(el("span", "src", " (source : " + D.sources[l.src].title + ")"));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (c.members.length) {
      box.appendChild(el("h3", null, "Membres"));
      box.appendChild(el("div", null, c.members.map(function (m) { return m[1] + " " + m[0].toLowerCase(); }).join(", ")));
    }
    var net = el("div", "hint");
    net.appendChild(document.createTextNode("Son réseau : "));
    net.appendChild(el("code", null, "cmq-graph map campus --campus " + c.id));
    box.appendChild(net);
    var idLine = el("div");
    idLine.appendChild(el("span", "key", "Identifiant : "));
    idLine.appendChild(externalLink(c.iri, c.iri));
    box.appendChild(idLine);
    c.url.forEach(function (u) { var d = el("div"); d.appendChild(el("span", "key", "Site web : ")); d.appendChild(externalLink(u, u)); box.appendChild(d); });
    if (c.src.length) {
      box.appendChild(el("h3", null, "Sources"));
      var sl = el("ul");
      c.src.forEach(function (s) { sl.appendChild(sourceItem(s)); });
      box.appendChild(sl);
    }
    document.getElementById("panel").scrollTop = 0;
  }

  // -- active filters ------------------------------------------------------------------------------

  function showActive() {
    var box = document.getElementById("active");
    box.replaceChildren();
    var any = false;
    FILTERS.forEach(function (f) {
      document.getElementById(f.select).value = state[f.name];
      if (!state[f.name]) return;
      any = true;
      var i = indexOfKey(f.items, state[f.name]);
      var chip = el("button", "chip", f.label + " : " + (i >= 0 ? f.items[i].label : state[f.name]) + " ×");
      chip.type = "button";
      chip.setAttribute("aria-label", "Retirer le filtre " + f.label);
      chip.addEventListener("click", function () { state[f.name] = ""; update(true); });
      box.appendChild(chip);
    });
    if (state.area) {
      any = true;
      var chipA = el("button", "chip", "Zone : " + areaName(state.area) + " ×");
      chipA.type = "button";
      chipA.addEventListener("click", function () { state.area = ""; update(true); });
      box.appendChild(chipA);
    }
    if (any) {
      var clear = el("button", "clear", "Tout effacer");
      clear.type = "button";
      clear.id = "clear-all";
      clear.addEventListener("click", function () {
        FILTERS.forEach(function (f) { state[f.name] = ""; });
        state.area = ""; state.campus = "";
        update(true);
      });
      box.appendChild(clear);
    } else {
      box.appendChild(el("span", "hint", "Aucun filtre actif."));
    }
    document.getElementById("f-measure").value = state.measure;
    document.getElementById("f-level").value = state.level;
  }

  // -- indicators ----------------------------------------------------------------------------------

  function table(id, head, rows, barCol) {
    var t = document.getElementById(id);
    t.replaceChildren();
    var tr = el("tr");
    head.forEach(function (h) { var th = el("th", null, h); th.scope = "col"; tr.appendChild(th); });
    var thead = el("thead"); thead.appendChild(tr); t.appendChild(thead);
    var max = 0;
    if (barCol !== undefined) rows.forEach(function (r) { max = Math.max(max, Number(r[barCol]) || 0); });
    var tbody = el("tbody");
    rows.forEach(function (r) {
      var line = el("tr");
      r.forEach(function (v, j) {
        var td = el("td", typeof v === "number" ? "n" : null);
        if (v instanceof Node) td.appendChild(v); else td.textContent = String(v);
        line.appendChild(td);
        if (j === barCol) {
          var b = el("td"); var bar = el("span", "bar");
          bar.style.width = (max ? (6 * Number(v) / max) : 0).toFixed(2) + "rem";
          b.appendChild(bar); line.appendChild(b);
        }
      });
      tbody.appendChild(line);
    });
    if (!rows.length) { var empty = el("tr"); empty.appendChild(el("td", "hint", "Aucun campus.")); tbody.appendChild(empty); }
    t.appendChild(tbody);
  }
  function countBy(list, keysOf) {
    var out = {};
    list.forEach(function (c) { keysOf(c).forEach(function (k) { out[k] = (out[k] || 0) + 1; }); });
    return Object.keys(out).map(function (k) { return [k, out[k]]; }).sort(function (a, b) { return b[1] - a[1] || a[0].localeCompare(b[0], "fr"); });
  }

  function indicators(list) {
    table("t-region", ["Région", "Campus", ""], countBy(list, function (c) {
      return [c.regionCode ? regionName(c.regionCode) : "sans région connue"];
    }), 1);
    table("t-filiere", [D.filieres.length ? "Filière" : "Secteur", "Campus", ""], countBy(list, function (c) {
      var t = themes(c); return t.length ? t : ["non renseigné"];
    }), 1);
    var seen = {}, byYear = {};
    list.forEach(function (c) {
      c.labels.forEach(function (l) {
        if (seen[l.labelling]) return;
        seen[l.labelling] = true;
        var y = l.date ? l.date.slice(0, 4) : "date non connue";
        var e = byYear[y] = byYear[y] || { n: 0, calls: {} };
        e.n++;
        var w = l.call !== null ? D.calls[l.call].label : "vague non précisée";
        e.calls[w] = (e.calls[w] || 0) + 1;
      });
    });
    table("t-year", ["Année", "Labellisations", "", "Vagues (appels à projets)"], Object.keys(byYear).sort().map(function (y) {
      var calls = Object.keys(byYear[y].calls).map(function (w) { return w + " : " + byYear[y].calls[w]; }).join(" ; ");
      return [y, byYear[y].n, calls];
    }), 1);
    table("t-mention", ["Mention", "Campus", "", "Part"], D.mentions.map(function (m, i) {
      var n = list.filter(function (c) { return c.mentions.indexOf(i) >= 0; }).length;
      return [m.label, n, list.length ? (100 * n / list.length).toFixed(1) + " %" : "–"];
    }), 1);
    var due = list.filter(function (c) { return expired(c) || expiring(c); })
      .sort(function (a, b) { return a.end < b.end ? -1 : a.end > b.end ? 1 : 0; });
    var dueRows = due.slice(0, 100).map(function (c) {
      return [campusButton(c), c.end, expired(c) ? "échu, sans renouvellement connu" : "échéance dans les 12 mois"];
    });
    if (due.length > 100) dueRows.push(["… et " + (due.length - 100) + " autres (voir la liste des campus)", "", ""]);
    table("t-expiring", ["Campus", "Fin du label", "État"], dueRows);
    var missing = document.getElementById("t-missing");
    missing.replaceChildren();
    var gaps = [
      ["sans lieu connu", list.filter(function (c) { return !anchorOf(c); }).length],
      ["sans date de labellisation", list.filter(function (c) { return !c.first; }).length],
      ["sans filière ni secteur", list.filter(function (c) { return !themes(c).length; }).length],
      ["sans membre connu", list.filter(function (c) { return !c.members.length; }).length]
    ];
    var ul = el("ul");
    gaps.forEach(function (g) { ul.appendChild(el("li", null, g[1] + " campus " + g[0])); });
    missing.appendChild(ul);
    if (D.coverage && D.coverage.rows.length) {
      missing.appendChild(el("p", "hint", "Requête « coverage » du catalogue :"));
      var ct = el("table"); ct.id = "t-coverage";
      missing.appendChild(ct);
      table("t-coverage", D.coverage.head, D.coverage.rows);
    } else {
      missing.appendChild(el("p", "hint", "La requête « coverage » (ce que les sources déclarent manquer) n'est pas dans ce catalogue : seuls les manques visibles dans le graphe sont comptés."));
    }
  }

  // The list shows TABLE_ROWS campuses at a time ("show more"): 2,000 rows of buttons cost a
  // quarter of a second at each filter.
  var TABLE_ROWS = 250;
  var tableLimit = TABLE_ROWS;
  function campusTable(list) {
    var more = document.getElementById("t-more");
    if (more) more.remove();
    if (list.length > tableLimit) {
      more = el("button", "link", "Afficher " + Math.min(TABLE_ROWS, list.length - tableLimit) + " campus de plus (" +
        (list.length - tableLimit) + " non affichés)");
      more.type = "button";
      more.id = "t-more";
      more.addEventListener("click", function () { tableLimit += TABLE_ROWS; campusTable(last.list); });
      document.getElementById("t-campuses").after(more);
    }
    table("t-campuses", ["Campus", "Région", "Académie", "Filières ou secteurs", "1re labellisation", "Fin du label", "Mention"],
      list.slice(0, tableLimit).map(function (c) {
        return [campusButton(c), c.regionCode ? regionName(c.regionCode) : "lieu inconnu",
          c.academies.filter(function (a) { return !D.academies[a].end; }).map(function (a) { return D.academies[a].label; }).join(", "),
          themes(c).join(", "), c.first, c.end ? c.end + (expired(c) ? " (échu)" : "") : "",
          c.mentions.map(function (m) { return D.mentions[m].label; }).join(", ")];
      }));
  }

  // -- update ----------------------------------------------------------------------------------

  var timings = [];
  var last = { key: null, list: null, byArea: null };
  // A filter, the colour measure or the level changes the whole view; a click on an area or a
  // campus changes only the panels (the map, indicators and table are kept as they are).
  function viewKey() {
    return FILTERS.map(function (f) { return state[f.name]; }).concat([state.measure, state.level]).join("\u0001");
  }
  function update(pushHash) {
    var start = performance.now();
    var k = viewKey();
    var list, byArea;
    if (k === last.key) {
      list = last.list;
      byArea = last.byArea;
      Object.keys(depPaths).forEach(function (code) {
        depPaths[code].classList.toggle("selected", state.area === areaKey(code, regionOfDep(code)));
      });
      showActive();
      showArea(list, byArea);
      showFiche();
      if (pushHash) writeHash();
      timings.push(performance.now() - start);
      return list.length;
    }
    list = filtered();
    var shown = {};
    list.forEach(function (c) { shown[c.i] = true; });
    dots.forEach(function (d, i) { if (d) d.style.display = shown[i] ? "" : "none"; });
    byArea = colourAreas(list);
    last = { key: k, list: list, byArea: byArea };
    showActive();
    showArea(list, byArea);
    showFiche();
    indicators(list);
    tableLimit = TABLE_ROWS;
    campusTable(list);
    var placed = list.filter(function (c) { return anchorOf(c); }).length;
    document.getElementById("counts").textContent = list.length + " campus affichés sur " + D.campuses.length +
      " (" + (list.length - placed) + " sans lieu connu)";
    if (pushHash) writeHash();
    timings.push(performance.now() - start);
    return list.length;
  }

  document.getElementById("today").textContent = today;
  window.addEventListener("hashchange", function () { readHash(); update(false); });
  readHash();
  update(false);

  window.cmqAtlas = {
    ready: true,
    state: state,
    timings: timings,
    firstView: performance.now() - t0,
    update: update,
    selectArea: selectArea,
    openCampus: openCampus,
    shown: function () { return filtered().length; },
    dots: function () { return dots.filter(function (d) { return d && d.style.display !== "none"; }).length; }
  };
  document.body.setAttribute("data-ready", "true");
})();
