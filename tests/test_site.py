"""``cmq-graph site``: the static publication served by a plain static server, every link
followed, every RDF file parsed (rdflib and Raptor's ``rapper``), dumps checked against their
checksums, and pages with hostile labels opened in Chromium where nothing may run."""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pyoxigraph as ox
import pytest
from conftest import require_program
from pyshacl import validate
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import DCAT
from test_pages_hostile import EVIL, JS_URL, SOURCE_A, XSS_IMG, hostile_store

from cmq_graph import cli
from cmq_graph.errors import CmqError
from cmq_graph.namespaces import BASE, SHAPES_GRAPH
from cmq_graph.web.dcat import SPDX, dcat_ap_shapes
from cmq_graph.web.site import build_site

HOST = "https://cmq.example.org/site/"
ENDPOINT = "https://cmq.example.org/sparql"
RDFLIB_FORMATS = {".ttl": "turtle", ".nt": "nt", ".rdf": "xml", ".jsonld": "json-ld", ".trig": "trig"}
RAPPER_FORMATS = {".ttl": "turtle", ".nt": "ntriples", ".rdf": "rdfxml", ".trig": "trig"}


@pytest.fixture(scope="module")
def site(store_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "out"
    code = cli.main(
        ["site", str(out), "--store", str(store_root), "--host-url", HOST, "--endpoint", ENDPOINT]
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    yield from _serve(site)


def _serve(root: Path) -> Iterator[str]:
    """``python -m http.server`` on 127.0.0.1, a free port; its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        port = re.search(r"port (\d+)", line)
        assert port, line
        yield f"http://127.0.0.1:{port.group(1)}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if value and (name in ("href", "src") or (tag == "form" and name == "action")):
                self.links.append(value)


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, b"", ""


def test_every_link_of_the_site_resolves(served: str):
    """Crawl from the home pages: every local link answers 200 and every #fragment exists."""
    todo = [served + "index.html", served + "index.en.html", served + "query.html"]
    pages: dict[str, Links] = {}
    checked: dict[str, int] = {}
    fragments: list[tuple[str, str, str]] = []
    external: set[str] = set()
    while todo:
        url = todo.pop()
        if url in checked:
            continue
        status, body, _ctype = _get(url)
        checked[url] = status
        assert status == 200, url
        if not url.endswith(".html"):
            continue
        parsed = Links()
        parsed.feed(body.decode("utf-8"))
        pages[url] = parsed
        for link in parsed.links:
            target, fragment = urldefrag(urljoin(url, link))
            if not target.startswith(served):
                assert urlsplit(target).scheme in ("http", "https"), (url, link)
                external.add(target)
                continue
            if fragment:
                fragments.append((url, target, fragment))
            if target not in checked:
                todo.append(target)
    for page, target, fragment in fragments:
        assert fragment in pages[target].ids, f"{page} links to missing #{fragment} in {target}"
    maps = [u for u in checked if u.endswith(".map.html")]
    assert maps and all("/id/campus/" in u for u in maps)  # each campus page links to its map
    entity_pages = [u for u in checked if "/id/" in u and u.endswith(".html")]
    assert len(entity_pages) > 100
    assert ENDPOINT in external  # the query page's forms
    assert len(checked) > 500


def test_thing_pages_offer_rdf_alternates(served: str, store):
    campus = str(store.query("SELECT ?c WHERE { ?c a cmq:Campus } ORDER BY ?c LIMIT 1").rows[0][0])
    stem = campus[len(BASE) :]
    for ext, fmt in RDFLIB_FORMATS.items():
        status, body, _ctype = _get(served + stem + ext)
        assert status == 200
        if fmt == "trig":
            Dataset().parse(data=body, format=fmt)
        else:
            g = Graph().parse(data=body, format=fmt)
            assert (URIRef(campus), None, None) in g


def _rdf_files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*") if p.suffix in RDFLIB_FORMATS and p.is_file())


def test_every_rdf_file_parses_with_rdflib(site: Path):
    files = _rdf_files(site)
    assert len(files) > 1000
    for path in files:
        fmt = RDFLIB_FORMATS[path.suffix]
        target = Dataset() if fmt == "trig" else Graph()
        target.parse(path, format=fmt)


def test_every_rdf_file_parses_with_rapper(site: Path):
    rapper = require_program("rapper")
    # One rapper per syntax over a sample spread across the site (a process per file is slow).
    for suffix, syntax in RAPPER_FORMATS.items():
        files = [p for p in _rdf_files(site) if p.suffix == suffix]
        for path in files[:: max(1, len(files) // 60)] + [
            p for p in files if "/" not in str(p.relative_to(site))
        ]:
            run = subprocess.run(
                [rapper, "-q", "-i", syntax, "-c", str(path), BASE],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert run.returncode == 0, (path, run.stderr)


def test_dumps_match_their_checksums_and_the_store(site: Path, store):
    sums = dict(
        reversed(line.split("  ", 1)) for line in (site / "dumps" / "SHA256SUMS").read_text().splitlines()
    )
    assert set(sums) == {"cmq.nq.gz", "cmq.trig.gz", "cmq.nt.gz", "cmq.ttl.gz", "shapes.ttl.gz"}
    for name, digest in sums.items():
        assert hashlib.sha256((site / "dumps" / name).read_bytes()).hexdigest() == digest
    quads = list(
        ox.parse(gzip.decompress((site / "dumps" / "cmq.nq.gz").read_bytes()), format=ox.RdfFormat.N_QUADS)
    )
    shapes = ox.NamedNode(SHAPES_GRAPH)
    expected = sum(1 for q in store.quads() if q.graph_name != shapes)
    assert len(quads) == expected and all(q.graph_name != shapes for q in quads)
    triples = Graph().parse(
        data=gzip.decompress((site / "dumps" / "cmq.ttl.gz").read_bytes()), format="turtle"
    )
    distinct = {(q.subject, q.predicate, q.object) for q in quads}
    assert len(triples) == len(distinct)
    void = Graph().parse(site / "void.ttl")
    dumps = list(void.objects(URIRef(BASE + "dataset"), URIRef("http://rdfs.org/ns/void#dataDump")))
    assert len(dumps) == 4 and all((site / str(d)[len(BASE) :]).is_file() for d in dumps)
    for name in ("cmq.ttl.gz", "cmq.nt.gz"):
        assert "not kept" in gzip.decompress((site / "dumps" / name).read_bytes())[:300].decode()


def test_site_dcat_describes_its_dumps_and_conforms(site: Path):
    record = Graph().parse(site / "dcat.ttl")
    shapes, _missing = dcat_ap_shapes()
    conforms, _g, text = validate(record, shacl_graph=shapes, advanced=True, allow_warnings=True)
    assert conforms, text
    dists = list(record.subjects(None, DCAT.Distribution))
    assert len(dists) == 4  # the four data dumps; the shapes are what the dataset conforms to
    for dist in dists:
        url = str(record.value(dist, DCAT.downloadURL))
        assert url.startswith(BASE + "dumps/")
        path = site / url[len(BASE) :]
        assert int(record.value(dist, DCAT.byteSize)) == path.stat().st_size
        checksum = record.value(dist, SPDX.checksum)
        assert (
            str(record.value(checksum, SPDX.checksumValue)) == hashlib.sha256(path.read_bytes()).hexdigest()
        )
    Graph().parse(site / "dcat.jsonld", format="json-ld")


def test_redirect_rules_and_conneg_example(site: Path):
    rules = (site / "w3id" / ".htaccess").read_text()
    assert "RewriteEngine on" in rules
    assert f"{HOST}$1.ttl [R=303,L]" in rules and f"{HOST}$1.html [R=303,L]" in rules
    assert "application/ld\\+json" in rules
    assert "return 303 $uri.$cmq_ext;" in (site / "conneg" / "nginx.conf").read_text()


def test_a_failed_site_leaves_the_previous_one(site: Path, store, monkeypatch, capsys):
    before = {str(p.relative_to(site)): p.stat().st_mtime_ns for p in site.rglob("*")}
    with pytest.raises(CmqError):
        build_site(store, site, endpoint="javascript:alert(1)")
    # A failure after the dumps and pages are written: the home page cannot be made.
    from cmq_graph.web import pages

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pages, "render_home", broken)
    with pytest.raises(RuntimeError):
        build_site(store, site)
    after = {str(p.relative_to(site)): p.stat().st_mtime_ns for p in site.rglob("*")}
    assert after == before
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".out-")]
    # Bad option values are refused by the command with the usage exit code.
    with pytest.raises(SystemExit) as stop:
        cli.main(["site", str(site), "--host-url", "javascript:alert(1)"])
    assert stop.value.code == 2
    assert "not an http(s) URL" in capsys.readouterr().err


# -- hostile labels in a real browser --------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("hostile") / "out"
    build_site(hostile_store(), out, endpoint="https://example.org/sparql")
    yield from _serve(out)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from test_maps_browser import CHROMIUM_ARGS

    executable = require_program("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("page_iri", [EVIL, SOURCE_A, BASE + "index"])
@pytest.mark.parametrize("lang", ["", ".en"])
def test_hostile_labels_do_not_run_in_chromium(browser, hostile_site: str, page_iri: str, lang: str):
    context = browser.new_context()
    dialogs: list[str] = []
    errors: list[str] = []
    requests: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    url = hostile_site + page_iri[len(BASE) :] + lang + ".html"
    response = page.goto(url)
    assert response is not None and response.status == 200
    page.wait_for_load_state("load")
    assert dialogs == [] and errors == []
    assert page.evaluate("document.scripts.length") == 0
    handlers = page.evaluate(
        "Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes)"
        ".filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))"
    )
    assert handlers == []
    hrefs = page.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.href)")
    assert not [h for h in hrefs if h.lower().startswith("javascript:")]
    body = page.inner_text("body")
    if page_iri == EVIL:
        assert XSS_IMG in body and JS_URL in body
    assert all(r.startswith(hostile_site) for r in requests), requests
    for link in page.query_selector_all("a"):
        if link.inner_text() == XSS_IMG:
            link.click()
            page.wait_for_load_state("load")
            assert dialogs == [] and errors == []
            break
    context.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_hostile_campus_map_runs_only_its_own_code(browser, hostile_site: str):
    """The campus map (the maps' own script) opens with hostile labels and nothing else runs."""
    context = browser.new_context()
    dialogs: list[str] = []
    errors: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(hostile_site + EVIL[len(BASE) :] + ".map.html")
    assert response is not None and response.status == 200
    page.wait_for_function("window.cmqMap && window.cmqMap.ready === true", timeout=30_000)
    assert dialogs == [] and errors == []
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    context.close()
