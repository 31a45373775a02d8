/* cmq-graph map viewer.
 *
 * Every string shown here comes from the data, which may be hostile: it is read from a JSON
 * script element (never evaluated), and put on the page only through textContent, DOM nodes and
 * input values, never innerHTML. Tooltips are DOM elements, because vis-network renders a string
 * title as HTML. Positions are computed in Python; physics stays off, so the map is drawn once
 * and stays still.
 */
(function () {
  "use strict";

  performance.mark("cmq-start");
  var DATA = JSON.parse(document.getElementById("cmq-data").textContent);
  performance.mark("cmq-parsed");
  var T = DATA.text;
  var DIM_NODE = 0.12;
  var DIM_EDGE = 0.05;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function normalise(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // -- tooltips and the details panel, built from data as DOM ---------------------------------

  function rows(container, pairs) {
    pairs.forEach(function (pair) {
      var line = el("div", "cmq-row");
      line.appendChild(el("span", "cmq-key", pair[0] + " : "));
      line.appendChild(el("span", "cmq-value", pair[1]));
      container.appendChild(line);
    });
  }

  // A fiche's values, each with the sources that state it: "2015-02-02 (Rectorat…), 2015-03 (…)".
  function attributedRows(container, pairs) {
    pairs.forEach(function (pair) {
      var line = el("div", "cmq-row");
      line.appendChild(el("span", "cmq-key", pair[0] + " : "));
      var values = pair[2] || [[pair[1], []]];
      values.forEach(function (item, i) {
        if (i) line.appendChild(document.createTextNode(" ; "));
        line.appendChild(el("span", "cmq-value", item[0]));
        if (item[1].length) {
          line.appendChild(el("span", "cmq-src", " (" + T.source + " : " + sourceTitles(item[1]).join(" · ") + ")"));
        }
      });
      container.appendChild(line);
    });
  }

  function sourceTitles(indexes) {
    return indexes.map(function (i) { return DATA.sources[i].title; });
  }

  // A source as a reader can check it: its title (a link, opening in a new tab), publisher, date.
  function sourceItem(s) {
    var li = el("li");
    if (s.url && /^https?:\/\//i.test(s.url)) {
      var a = el("a", null, s.title);
      a.setAttribute("href", s.url);
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
      li.appendChild(a);
    } else {
      li.appendChild(el("span", null, s.title));
    }
    var extra = [];
    if (s.publisher) extra.push(T.publisher + " : " + s.publisher);
    if (s.date) extra.push(T.date + " : " + s.date);
    if (extra.length) li.appendChild(el("span", "cmq-src", " — " + extra.join(", ")));
    return li;
  }

  function nodeTooltip(n) {
    var box = el("div", "cmq-tip");
    box.appendChild(el("div", "cmq-tip-title", n.label));
    var pairs = [[T.kind, n.kinds.map(function (k) { return DATA.kinds[k].label; }).join(", ")]];
    pairs = pairs.concat(n.ids, n.dates);
    rows(box, pairs);
    if (n.src.length) {
      rows(box, [[T.sources, sourceTitles(n.src).join(" · ")]]);
    }
    return box;
  }

  function edgeTooltip(e) {
    var box = el("div", "cmq-tip");
    var from = DATA.nodes[e.from].label;
    var to = DATA.nodes[e.to].label;
    box.appendChild(el("div", "cmq-tip-title", from + " — " + to));
    var pairs = [];
    if (e.rel.length) pairs.push([T.relation, e.rel.join(", ")]);
    if (e.partners.length) pairs.push([T.shared + " (" + e.partners.length + ")", e.partners.join(", ")]);
    if (e.jaccard !== null && e.jaccard !== undefined) pairs.push([T.jaccard, String(e.jaccard)]);
    if (e.end) pairs.push([T.ended, e.end]);
    pairs = pairs.concat(e.dates);
    rows(box, pairs);
    if (e.src.length) rows(box, [[T.sources, sourceTitles(e.src).join(" · ")]]);
    return box;
  }

  // -- data sets ------------------------------------------------------------------------------

  // Colour and shape come from one group per kind (cheaper for vis-network than per-node
  // options); tooltips are built when first hovered, not for thousands of items up front.
  var groups = {};
  DATA.kinds.forEach(function (kind, k) {
    groups["k" + k] = { shape: kind.shape, color: { background: kind.color, border: "#333333" } };
  });
  // A national overview opens on its campuses only: the other items enter the data sets when a
  // click opens them (vis-network then processes tens of items, not thousands: the first frame
  // and each click stay fast).
  var campusOnly = DATA.campusOnly === true;
  var opened = new Set();
  var neighbours = DATA.nodes.map(function () { return []; });
  DATA.edges.forEach(function (e) { neighbours[e.from].push(e.to); neighbours[e.to].push(e.from); });
  function isCampus(i) { return DATA.kinds[DATA.nodes[i].kinds[0]].category === "campus"; }
  function isHidden(i) { return campusOnly && !isCampus(i) && !opened.has(i); }

  var asOf = new Date().toISOString().slice(0, 10);
  function isEnded(item) {
    return !!((item.end && String(item.end) < asOf.slice(0, String(item.end).length)) ||
      (item.start && String(item.start).slice(0, asOf.length) > asOf));
  }
  var nodeEnded = DATA.nodes.map(isEnded);
  var edgeEnded = DATA.edges.map(isEnded);
  var nodeItems = DATA.nodes.map(function (n, i) {
    var item = { id: i, label: n.label, x: n.x, y: n.y, size: n.size, group: "k" + n.kinds[0] };
    if (nodeEnded[i]) { item.shapeProperties = { borderDashes: [4, 3] }; item.borderWidth = 2; }
    return item;
  });
  var edgeItems = DATA.edges.map(function (e, i) {
    var item = { id: i, from: e.from, to: e.to };
    if (e.width !== 1) item.width = e.width;
    if (edgeEnded[i]) item.dashes = [6, 4];
    return item;
  });
  var minShared = 1;

  performance.mark("cmq-items");
  var present = new Set();
  var edgePresent = new Set();
  var edgesOf = DATA.nodes.map(function () { return []; });
  DATA.edges.forEach(function (e, i) { edgesOf[e.from].push(i); edgesOf[e.to].push(i); });
  nodeItems.forEach(function (n) { if (!isHidden(n.id)) present.add(n.id); });
  edgeItems.forEach(function (e) { if (present.has(e.from) && present.has(e.to)) edgePresent.add(e.id); });
  var nodes = new vis.DataSet(nodeItems.filter(function (n) { return present.has(n.id); }));
  var edges = new vis.DataSet(edgeItems.filter(function (e) { return edgePresent.has(e.id); }));

  // Items entering the map take the current date's dashes.
  function withDate(item, ended, isNode) {
    var out = Object.assign({}, item);
    if (isNode) { out.shapeProperties = { borderDashes: ended ? [4, 3] : false }; out.borderWidth = ended ? 2 : 1; }
    else out.dashes = ended ? [6, 4] : false;
    return out;
  }
  // In the campus-only view, a link shows when one of its ends was opened by a click: opening a
  // campus draws its members and their links to it, not every national partner's 200 links.
  var full = new Set();
  function edgeShown(e) {
    return present.has(e.from) && present.has(e.to) && (!campusOnly || full.has(e.from) || full.has(e.to));
  }
  function reveal(ids, opener) {
    var addNodes = [];
    ids.forEach(function (j) {
      if (!present.has(j)) { present.add(j); addNodes.push(withDate(nodeItems[j], nodeEnded[j], true)); }
    });
    if (opener !== undefined) full.add(opener);
    var addEdges = [];
    var candidates = opener !== undefined ? edgesOf[opener].slice() : [];
    addNodes.forEach(function (n) { candidates = candidates.concat(edgesOf[n.id]); });
    candidates.forEach(function (k) {
      var e = edgeItems[k];
      if (!edgePresent.has(k) && edgeShown(e)) {
        edgePresent.add(k);
        addEdges.push(withDate(e, edgeEnded[k], false));
      }
    });
    if (addNodes.length) nodes.add(addNodes);
    if (addEdges.length) edges.add(addEdges);
    return addNodes.length + addEdges.length > 0;
  }
  function conceal(ids) {
    var gone = ids.filter(function (j) { return present.has(j); });
    var goneEdges = [];
    gone.forEach(function (j) {
      present.delete(j);
      edgesOf[j].forEach(function (k) { if (edgePresent.has(k)) { edgePresent.delete(k); goneEdges.push(k); } });
    });
    if (goneEdges.length) edges.remove(goneEdges);
    if (gone.length) nodes.remove(gone);
  }

  var hiddenKinds = new Set();
  var sectorFilter = "";
  var regionFilter = "";
  var visibleIds = new Set(nodeItems.map(function (n) { return n.id; }));

  function nodeVisible(item) {
    var n = DATA.nodes[item.id];
    if (n.kinds.every(function (k) { return hiddenKinds.has(k); })) return false;
    if (sectorFilter !== "" && n.sectors.indexOf(Number(sectorFilter)) < 0) return false;
    if (regionFilter !== "" && n.regions.indexOf(Number(regionFilter)) < 0) return false;
    return true;
  }

  visibleIds = new Set(nodeItems.filter(function (n) { return present.has(n.id) && nodeVisible(n); }).map(function (n) { return n.id; }));
  var nodesView = new vis.DataView(nodes, { filter: nodeVisible });
  var edgesView = new vis.DataView(edges, {
    filter: function (e) {
      return visibleIds.has(e.from) && visibleIds.has(e.to) && (DATA.edges[e.id].weight || 1) >= minShared;
    }
  });

  function applyFilters() {
    visibleIds = new Set(nodes.getIds({ filter: nodeVisible }));
    nodesView.refresh();
    edgesView.refresh();
    updateCounts();
  }

  function updateCounts() {
    var n = nodesView.length, m = edgesView.length;
    document.getElementById("cmq-counts").textContent = T.counts.replace("{nodes}", n).replace("{edges}", m);
  }

  performance.mark("cmq-datasets");
  // -- the network ----------------------------------------------------------------------------

  var large = DATA.nodes.length > 1000;
  var network = new vis.Network(
    document.getElementById("cmq-network"),
    { nodes: nodesView, edges: edgesView },
    {
      physics: { enabled: false },
      groups: groups,
      layout: { improvedLayout: false, randomSeed: 1 },
      nodes: {
        font: { size: 14, face: "sans-serif", strokeWidth: 3, strokeColor: "#ffffff" },
        scaling: { label: { enabled: true, drawThreshold: 9 } },
        borderWidth: 1
      },
      edges: {
        smooth: false,
        color: { color: "#8a8a8a", highlight: "#222222", hover: "#222222", opacity: 0.6 },
        selectionWidth: 2
      },
      interaction: {
        hover: true,
        tooltipDelay: 150,
        hideEdgesOnDrag: large,
        hideEdgesOnZoom: large,
        navigationButtons: false,
        keyboard: { enabled: true, bindToWindow: false, speed: { x: 10, y: 10, zoom: 0.03 } }
      }
    }
  );

  performance.mark("cmq-network");
  // -- highlighting: a set of nodes in full colour, the rest dimmed ---------------------------

  var highlighted = null; // null: nothing dimmed

  function highlight(ids) {
    highlighted = ids === null ? null : new Set(ids);
    if (DATA.nodes.length > 1000) {
      // A national map: dimming thousands of items costs seconds in vis-network; its own
      // selection (bold outline and links) marks the set instead, in milliseconds.
      network.selectNodes(ids === null ? [] : ids.filter(function (i) { return visibleIds.has(i); }), true);
      return;
    }
    // Only items on the map: DataSet.update would add the others.
    var nodeUpdates = nodeItems.filter(function (n) { return present.has(n.id); }).map(function (n) {
      return { id: n.id, opacity: highlighted === null || highlighted.has(n.id) ? 1 : DIM_NODE };
    });
    var edgeUpdates = edgeItems.filter(function (e) { return edgePresent.has(e.id); }).map(function (e) {
      var on = highlighted === null || (highlighted.has(e.from) && highlighted.has(e.to));
      return { id: e.id, color: { opacity: on ? 0.6 : DIM_EDGE } };
    });
    nodes.update(nodeUpdates);
    edges.update(edgeUpdates);
  }

  function showDetails(id) {
    var panel = document.getElementById("cmq-details");
    panel.replaceChildren();
    if (id === null) {
      panel.appendChild(el("p", "cmq-hint", T.clickHint));
      return;
    }
    var n = DATA.nodes[id];
    panel.appendChild(el("h2", null, n.label));
    var pairs = [[T.kind, n.kinds.map(function (k) { return DATA.kinds[k].label; }).join(", ")]];
    if (n.other) pairs.push([T.otherNames, n.other]);
    if (n.towns && n.towns.length) pairs.push([T.place, n.towns.join(", ")]);
    if (n.end) pairs.push([DATA.kinds[n.kinds[0]].category === "campus" ? T.labelEnd : T.ended, n.end]);
    rows(panel, pairs);
    attributedRows(panel, n.ids.concat(n.dates));
    var iri = el("div", "cmq-row");
    iri.appendChild(el("span", "cmq-key", T.identifier + " : "));
    var link = el("a", null, n.iri);
    link.setAttribute("href", n.iri);
    link.setAttribute("target", "_blank");
    link.setAttribute("rel", "noopener noreferrer");
    link.setAttribute("title", T.newTab);
    iri.appendChild(link);
    panel.appendChild(iri);

    var linked = network.getConnectedEdges(id).map(function (eid) { return DATA.edges[eid]; });
    panel.appendChild(el("h3", null, T.partners + " (" + linked.length + ")"));
    var list = el("ul", "cmq-partners");
    linked
      .map(function (e) { return { other: e.from === id ? e.to : e.from, edge: e }; })
      .sort(function (a, b) { return DATA.nodes[a.other].label.localeCompare(DATA.nodes[b.other].label); })
      .forEach(function (item) {
        var li = el("li");
        var button = el("button", "cmq-link", DATA.nodes[item.other].label);
        button.type = "button";
        button.addEventListener("click", function () { select(item.other); });
        li.appendChild(button);
        var extra = item.edge.rel.concat(item.edge.dates.map(function (d) { return d[0] + " " + d[1]; }));
        if (item.edge.partners.length) extra.push(T.shared + " : " + item.edge.partners.length);
        if (item.edge.jaccard !== null && item.edge.jaccard !== undefined) extra.push(T.jaccard + " : " + item.edge.jaccard);
        if (isEnded(item.edge)) extra.push(T.ended + " " + item.edge.end);
        if (extra.length) li.appendChild(el("span", "cmq-role", " — " + extra.join(", ")));
        if (item.edge.src.length) {
          li.appendChild(el("div", "cmq-src", T.source + " : " + sourceTitles(item.edge.src).join(" · ")));
        }
        list.appendChild(li);
      });
    panel.appendChild(list);
    panel.appendChild(el("h3", null, T.sources));
    var sources = el("ul", "cmq-sources");
    n.src.forEach(function (i) { sources.appendChild(sourceItem(DATA.sources[i])); });
    panel.appendChild(sources);
    document.getElementById("cmq-aside").scrollTop = 0;
  }

  function select(id) {
    if (id === null) {
      network.unselectAll();
      highlight(null);
      showDetails(null);
      return;
    }
    if (campusOnly) {
      // Open the campus (or the found member) and its neighbours.
      var ids = [id].concat(neighbours[id]);
      ids.forEach(function (j) { opened.add(j); });
      if (reveal(ids, id)) applyFilters();
    }
    if (!visibleIds.has(id)) return;
    network.selectNodes([id]);
    highlight([id].concat(network.getConnectedNodes(id)));
    showDetails(id);
    network.focus(id, { scale: Math.max(network.getScale(), 0.8), animation: false });
  }

  network.on("hoverNode", function (params) {
    var item = nodes.get(params.node);
    if (item && !item.title) nodes.update({ id: params.node, title: nodeTooltip(DATA.nodes[params.node]) });
  });
  network.on("hoverEdge", function (params) {
    var item = edges.get(params.edge);
    if (item && !item.title) edges.update({ id: params.edge, title: edgeTooltip(DATA.edges[params.edge]) });
  });

  network.on("click", function (params) {
    if (params.nodes.length) select(params.nodes[0]);
    else if (!params.edges.length) select(null);
  });

  // -- search by name -------------------------------------------------------------------------

  // Names, other names (short names), identifiers (UAI, SIREN, acronym…) and towns.
  var searchIndex = DATA.nodes.map(function (n) {
    var ids = n.ids.map(function (p) { return p[1]; }).join(" ");
    return normalise([n.label, n.other || "", ids, (n.towns || []).join(" ")].join(" | "));
  });

  function search(query) {
    var results = document.getElementById("cmq-results");
    results.replaceChildren();
    var q = normalise(query.trim());
    if (q === "") {
      highlight(null);
      return [];
    }
    var found = [];
    searchIndex.forEach(function (text, i) {
      if ((campusOnly || visibleIds.has(i)) && text.indexOf(q) >= 0) found.push(i);
    });
    highlight(found);
    found.slice(0, 30).forEach(function (i) {
      var li = el("li");
      var button = el("button", "cmq-link", DATA.nodes[i].label);
      button.type = "button";
      button.addEventListener("click", function () { select(i); });
      li.appendChild(button);
      li.appendChild(el("span", "cmq-role", " — " + DATA.kinds[DATA.nodes[i].kinds[0]].label));
      results.appendChild(li);
    });
    if (found.length === 0) results.appendChild(el("li", "cmq-hint", T.noResult));
    else if (found.length > 30) results.appendChild(el("li", "cmq-hint", T.more.replace("{n}", found.length - 30)));
    return found;
  }

  var searchBox = document.getElementById("cmq-search");
  searchBox.addEventListener("input", function () { search(searchBox.value); });
  searchBox.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      var found = search(searchBox.value);
      if (found.length) select(found[0]);
    } else if (event.key === "Escape") {
      searchBox.value = "";
      search("");
      select(null);
    }
  });

  // -- legend (doubles as the kind filter) and the sector / région filters ---------------------

  var SHAPE_SYMBOL = { star: "★", triangle: "▲", dot: "●", square: "■", diamond: "◆",
    hexagon: "⬢", triangleDown: "▼", ellipse: "⬬" };

  var legend = document.getElementById("cmq-legend");
  DATA.kinds.forEach(function (kind, k) {
    var count = DATA.nodes.filter(function (n) { return n.kinds[0] === k; }).length;
    var also = DATA.nodes.filter(function (n) { return n.kinds.indexOf(k) >= 0; }).length;
    if (also === 0) return;
    var label = el("label", "cmq-legend-item");
    var box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.value = String(k);
    box.setAttribute("data-kind", String(k));
    box.addEventListener("change", function () {
      if (box.checked) hiddenKinds.delete(k); else hiddenKinds.add(k);
      applyFilters();
    });
    var symbol = el("span", "cmq-symbol", SHAPE_SYMBOL[kind.shape] || "●");
    symbol.style.color = kind.color;
    label.appendChild(box);
    label.appendChild(symbol);
    label.appendChild(el("span", null, kind.label + " (" + count + ")"));
    legend.appendChild(label);
  });

  function fillSelect(id, values) {
    var select = document.getElementById(id);
    values.forEach(function (value, i) {
      var option = el("option", null, value.label);
      option.value = String(i);
      select.appendChild(option);
    });
    select.disabled = values.length === 0;
    return select;
  }
  var sectorSelect = fillSelect("cmq-sector", DATA.sectors);
  sectorSelect.addEventListener("change", function () { sectorFilter = sectorSelect.value; applyFilters(); });
  var regionSelect = fillSelect("cmq-region", DATA.regions);
  regionSelect.addEventListener("change", function () { regionFilter = regionSelect.value; applyFilters(); });

  var sourceList = document.getElementById("cmq-source-list");
  DATA.sources.forEach(function (s) { sourceList.appendChild(sourceItem(s)); });

  // -- time: what had ended (or not begun) at the chosen date is drawn dashed --------------------

  // Only what changes state is updated: a national map has thousands of items.
  function applyDate() {
    var ended = 0;
    var nodeUpdates = [];
    DATA.nodes.forEach(function (n, i) {
      var off = isEnded(n);
      if (off) ended++;
      if (off !== nodeEnded[i]) {
        nodeEnded[i] = off;
        nodeUpdates.push({ id: i, shapeProperties: { borderDashes: off ? [4, 3] : false }, borderWidth: off ? 2 : 1 });
      }
    });
    var edgeUpdates = [];
    DATA.edges.forEach(function (e, i) {
      var off = isEnded(e);
      if (off) ended++;
      if (off !== edgeEnded[i]) { edgeEnded[i] = off; edgeUpdates.push({ id: i, dashes: off ? [6, 4] : false }); }
    });
    // Items not on the map yet take their dashes when they enter it (see reveal).
    nodeUpdates = nodeUpdates.filter(function (u) { return present.has(u.id); });
    edgeUpdates = edgeUpdates.filter(function (u) { return edgePresent.has(u.id); });
    if (nodeUpdates.length) nodes.update(nodeUpdates);
    if (edgeUpdates.length) edges.update(edgeUpdates);
    document.getElementById("cmq-ended").textContent = T.endedCount.replace("{n}", ended);
    return ended;
  }
  var asOfInput = document.getElementById("cmq-asof");
  asOfInput.value = asOf;
  asOfInput.addEventListener("change", function () {
    if (asOfInput.value) { asOf = asOfInput.value; applyDate(); }
  });

  // -- shared partners: a minimum number of shared partners ------------------------------------

  if (DATA.campusOnly === true) {
    document.getElementById("cmq-campus-only-box").hidden = false;
    var onlyBox = document.getElementById("cmq-campus-only");
    onlyBox.checked = true;
    onlyBox.addEventListener("change", function () {
      campusOnly = onlyBox.checked;
      opened.clear();
      full.clear();
      if (campusOnly) conceal(nodeItems.filter(function (n) { return isHidden(n.id); }).map(function (n) { return n.id; }));
      else {
        reveal(nodeItems.map(function (n) { return n.id; }));
        var missing = edgeItems.filter(function (e) { return !edgePresent.has(e.id); });
        missing.forEach(function (e) { edgePresent.add(e.id); });
        if (missing.length) edges.add(missing.map(function (e) { return withDate(e, edgeEnded[e.id], false); }));
      }
      applyFilters();
    });
  }

  var maxWeight = DATA.edges.reduce(function (m, e) { return Math.max(m, e.weight || 1); }, 1);
  if (DATA.kind === "shared-partners") {
    document.getElementById("cmq-shared-box").hidden = false;
    var slider = document.getElementById("cmq-min-shared");
    slider.max = String(maxWeight);
    slider.addEventListener("input", function () {
      minShared = Number(slider.value);
      document.getElementById("cmq-min-shared-value").textContent = slider.value;
      applyFilters();
    });
  }
  function listInto(boxId, listId, items, show) {
    if (!items.length) return;
    document.getElementById(boxId).hidden = false;
    var list = document.getElementById(listId);
    items.forEach(function (item) { list.appendChild(el("li", null, show(item))); });
  }
  listInto("cmq-hubs-box", "cmq-hubs", DATA.hubs || [], function (h) { return h.label + " (" + h.campuses + " campus)"; });
  listInto("cmq-unplaced-box", "cmq-unplaced", DATA.unplaced || [], function (u) { return u; });
  if ((DATA.unplaced || []).length) document.getElementById("cmq-unplaced-count").textContent = String(DATA.unplaced.length);

  // -- zoom buttons and the table alternative ---------------------------------------------------

  document.getElementById("cmq-zoom-in").addEventListener("click", function () {
    network.moveTo({ scale: network.getScale() * 1.4 });
  });
  document.getElementById("cmq-zoom-out").addEventListener("click", function () {
    network.moveTo({ scale: network.getScale() / 1.4 });
  });
  document.getElementById("cmq-fit").addEventListener("click", function () { network.fit({ animation: false }); });

  var tbody = document.querySelector("#cmq-table tbody");
  var degree = DATA.nodes.map(function () { return 0; });
  DATA.edges.forEach(function (e) { degree[e.from]++; degree[e.to]++; });
  DATA.nodes.forEach(function (n, i) {
    var tr = el("tr");
    var td = el("td");
    var b = el("button", "cmq-link", n.label);
    b.type = "button";
    b.addEventListener("click", function () { select(i); document.getElementById("cmq-details").focus(); });
    td.appendChild(b);
    tr.appendChild(td);
    tr.appendChild(el("td", null, n.kinds.map(function (k) { return DATA.kinds[k].label; }).join(", ")));
    tr.appendChild(el("td", null, (n.towns || []).join(", ")));
    tr.appendChild(el("td", null, String(degree[i])));
    tbody.appendChild(tr);
  });
  document.getElementById("cmq-details").setAttribute("tabindex", "-1");

  if (DATA.empty) {
    var empty = document.getElementById("cmq-empty");
    empty.textContent = DATA.empty;
    empty.hidden = false;
  }

  // -- ready ----------------------------------------------------------------------------------

  var state = {
    network: network,
    nodes: nodes,
    edges: edges,
    nodesView: nodesView,
    edgesView: edgesView,
    ready: false,
    drawnAt: null,
    search: search,
    select: select,
    highlightedCount: function () { return highlighted === null ? nodesView.length : highlighted.size; },
    setDate: function (d) { asOf = d; asOfInput.value = d; return applyDate(); },
    setMinShared: function (m) { minShared = m; applyFilters(); return edgesView.length; },
    campusOnly: function () { return campusOnly; }
  };
  window.cmqMap = state;
  applyFilters();
  applyDate();
  showDetails(null);
  if (DATA.nodes.length === 0) {
    state.drawnAt = performance.now();
    state.ready = true;
    document.body.setAttribute("data-ready", "true");
  }
  network.once("afterDrawing", function () {
    state.drawnAt = performance.now();
    state.ready = true;
    document.body.setAttribute("data-ready", "true");
  });
})();
