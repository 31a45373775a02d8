"""The query page: YASGUI (shipped in ``static/``, no CDN) with the catalogue as its examples.

Every catalogue query is offered with its title, description and parameters; a parameter with a
default is bound to it by a ``VALUES`` block so that the example runs as it stands. Our prefixes
are declared at the top of each example (the endpoint also predeclares them).
"""

from __future__ import annotations

import contextlib
import json
from html import escape

from rdflib.term import Node

from .. import catalog
from ..errors import QueryError
from ..namespaces import BASE, PREFIXES
from ..remote import bind_values, tokens

_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Campus des Métiers et des Qualifications — requêtes SPARQL</title>
<link rel="stylesheet" href="{static}yasgui.min.css">
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; display: flex; min-height: 100vh; }}
#examples {{ width: 22rem; flex: none; overflow-y: auto; max-height: 100vh; padding: 0.5rem 1rem;
  border-right: 1px solid #ccc; box-sizing: border-box; font-size: 0.9rem; }}
#examples h1 {{ font-size: 1.1rem; }}
#examples li {{ margin-bottom: 0.6rem; }}
#examples button {{ font: inherit; font-weight: 600; text-align: left; background: none; border: none;
  padding: 0; color: #0645ad; cursor: pointer; }}
#examples p {{ margin: 0.2rem 0; color: #333; }}
#examples .params {{ font-family: monospace; font-size: 0.8rem; color: #555; }}
main {{ flex: 1; min-width: 0; padding: 0.5rem; }}
</style>
</head>
<body>
<nav id="examples">
<h1>Questions du catalogue</h1>
<p>Point d'accès : <a id="endpoint-link" href="{endpoint}">{endpoint}</a> (lecture seule ;
{timeout_note}).</p>
<ul>
{items}
</ul>
</nav>
<main><div id="yasgui"></div></main>
<script src="{static}yasgui.min.js"></script>
<script id="cmq-examples" type="application/json">{examples}</script>
<script>
(function () {{
  var endpoint = new URL({endpoint_js}, document.baseURI).href;
  var examples = JSON.parse(document.getElementById("cmq-examples").textContent);
  if (examples.localBase) {{ examples.localBase = new URL(examples.localBase, document.baseURI).href; }}
  var yasgui = new Yasgui(document.getElementById("yasgui"), {{
    requestConfig: {{ endpoint: endpoint, method: "POST" }},
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: {{ getData: function () {{ return [{{ endpoint: endpoint }}]; }} }},
    persistenceId: null,
    populateFromUrl: false,
    yasqe: {{ value: examples.prologue + "\\nSELECT * WHERE {{\\n  ?s ?p ?o\\n}}\\nLIMIT 10\\n",
              autocompleters: ["prefixes", "variables"], prefixCcApi: null }},
    yasr: {{ prefixes: examples.prefixes }}
  }});
  window.cmqYasgui = yasgui;
  // Our IRIs resolve on the host serving this page: a link to one opens its page here.
  if (examples.localBase) {{
    document.addEventListener("click", function (e) {{
      var a = e.target.closest ? e.target.closest("a[href]") : null;
      var href = a ? a.getAttribute("href") : "";
      if (href && href.indexOf(examples.base) === 0) {{
        a.setAttribute("href", new URL(href.slice(examples.base.length), examples.localBase).href);
      }}
    }}, true);
  }}
  window.cmqOpen = function (name) {{
    var ex = examples.queries[name];
    var tab = yasgui.addTab(true, {{ name: ex.title }});
    tab.setEndpoint(endpoint);
    tab.setQuery(ex.query);
    return tab;
  }};
  document.querySelectorAll("#examples button[data-query]").forEach(function (b) {{
    b.addEventListener("click", function () {{ window.cmqOpen(b.getAttribute("data-query")); }});
  }});
}})();
</script>
</body>
</html>
"""


def _prologue(text: str | None = None) -> str:
    """PREFIX lines for our prefixes (only those ``text`` uses, when given)."""
    used = {t.text.split(":", 1)[0] for t in tokens(text)} if text is not None else set(PREFIXES)
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items() if p in used)


def example(query: catalog.CatalogQuery) -> str:
    """The runnable text of a catalogue query: prefixes declared, defaults bound."""
    text = query.text
    defaults: dict[str, Node] = {}
    for p in query.params:
        if p.default is not None:
            defaults[p.name] = catalog.to_term(p, p.default, query.where)
    if defaults:
        with contextlib.suppress(QueryError):  # a form VALUES cannot bind: runs unbound
            text = bind_values(text, defaults)
    return _prologue(text) + text


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no "</script>", no HTML comment opener)."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def render(endpoint: str = "sparql", static: str = "static/", timeout: float | None = None,
           queries: dict[str, catalog.CatalogQuery] | None = None, local_base: str | None = "./") -> str:
    """The page's HTML, for an endpoint URL (relative to the page or absolute) and a catalogue.

    ``local_base``: where our IRIs (``BASE`` + path) resolve, relative to the page; a link to one
    in the results opens there (``serve`` answers them); None leaves the links as they are.
    """
    queries = catalog.catalogue() if queries is None else queries
    items, data = [], {}
    for name, q in sorted(queries.items(), key=lambda kv: kv[1].title.lower()):
        data[name] = {"title": q.title, "query": example(q)}
        params = "".join(
            f'<div class="params">{escape(p.signature())}{" — " + escape(p.doc) if p.doc else ""}</div>'
            for p in q.params
        )
        description = q.description_fr or q.description
        items.append(
            f'<li><button type="button" data-query="{escape(name)}">{escape(q.title)}</button>'
            f'{f"<p>{escape(description)}</p>" if description else ""}{params}</li>'
        )
    examples = {"prologue": _prologue(), "prefixes": dict(PREFIXES), "queries": data, "base": BASE,
                "localBase": local_base}
    note = f"{timeout:g} s par requête" if timeout else "requêtes limitées en temps et en taille"
    return _PAGE.format(
        static=escape(static), endpoint=escape(endpoint), endpoint_js=_script_json(endpoint),
        items="\n".join(items), examples=_script_json(examples), timeout_note=escape(note),
    )
