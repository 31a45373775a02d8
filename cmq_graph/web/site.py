"""``cmq-graph site OUT/``: the whole publication as static files, for any static host.

What it writes (paths follow the IRIs, so ``https://w3id.org/cmq/id/campus/x`` is
``OUT/id/campus/x.html``, ``.ttl``…):

* a page (French, and ``.en.html``) and five RDF documents per resource of the graph (``id/``,
  ``vocab/``, ``graph/``, ``dataset``), the ontology documentation ``def.html`` with ``def.ttl``…,
  the shapes apart (``shapes.ttl``);
* ``dumps/``: the dataset gzipped in N-Quads and TriG (each statement in its source's graph) and
  in N-Triples and Turtle (triples only: they drop which source states what, and say so), the
  shapes, and ``SHA256SUMS``;
* ``void.ttl`` (the meta graph: sources, VoID, what each graph is), ``dcat.ttl`` and
  ``dcat.jsonld`` (DCAT-AP 3.0.1), ``query.html`` pointing at a configurable SPARQL endpoint;
* ``w3id/.htaccess``, the redirect rules to propose to the w3id.org registry for ``/cmq/``,
  and ``conneg/nginx.conf``, a content-negotiation example for a server hosting OUT/.

The site is written in a new folder beside OUT and swapped in at the end: a failure leaves the
previous site as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from jinja2 import Environment

from ..catalog import catalogue
from ..errors import CmqError
from ..namespaces import BASE, META_GRAPH, PREFIXES, SHAPES_GRAPH, sparql_prefixes
from ..store import EmbeddedStore
from . import pages
from .dcat import Dump, dcat_record
from .resources import (
    MAP_SUFFIX,
    RDF_FORMATS,
    WHOLE_GRAPHS,
    describe,
    document,
    document_path,
    iri_of,
    is_campus,
)

Say = Callable[[str], None]

# The base and the shapes graph are the project's constants, not input.
_OURS = f"""
SELECT DISTINCT ?x WHERE {{
  {{ GRAPH ?g {{ ?x ?p ?o }} }} UNION {{ GRAPH ?g {{ ?s ?p ?x }} }}
  FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{BASE}") && ?g != <{SHAPES_GRAPH}>)
}}
"""
_TRIPLES = f"SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{SHAPES_GRAPH}>) }}"


@dataclass
class SiteReport:
    pages: int = 0
    files: int = 0
    dumps: list[Dump] | None = None
    out: Path | None = None


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stems(store: EmbeddedStore) -> list[str]:
    """Every document stem the graph's own IRIs need (one per IRI before its ``#``)."""
    rows = store.query(_OURS).rows
    stems = set()
    for (x,) in rows:
        doc = document_path(str(x), "html")
        if doc is not None:
            stems.add(doc[: -len(".html")])
    stems.discard("shapes")
    return sorted(stems)


def _dump_files(store: EmbeddedStore, root: Path) -> list[tuple[str, str, str, str]]:
    """Write the gzipped dumps; (path, media type, title, description) of each."""
    ox_store = store.oxigraph
    shapes = ox.NamedNode(SHAPES_GRAPH)
    dumps = root / "dumps"
    dumps.mkdir(parents=True, exist_ok=True)

    def quads() -> Iterable[ox.Quad]:
        # The sources' named graphs, not the union the build materialises in the default graph
        # (the same triples again, without their source).
        return (
            q
            for q in ox_store.quads_for_pattern(None, None, None, None)
            if q.graph_name != shapes and q.graph_name != ox.DefaultGraph()
        )

    def triples() -> Iterable[ox.Triple]:
        rows = ox_store.query(_TRIPLES)
        return (ox.Triple(r[0], r[1], r[2]) for r in rows)  # type: ignore[arg-type]

    dropped = (
        "Triples only: which source states each triple is not kept here (see the N-Quads or TriG "
        "dump, where each statement sits in the named graph of its source)."
    )
    kept = "Each statement in the named graph of the source that states it; sources described in graph/meta."
    plan = [
        ("dumps/cmq.nq.gz", "application/n-quads", "N-Quads", kept, quads, ox.RdfFormat.N_QUADS),
        ("dumps/cmq.trig.gz", "application/trig", "TriG", kept, quads, ox.RdfFormat.TRIG),
        ("dumps/cmq.nt.gz", "application/n-triples", "N-Triples", dropped, triples, ox.RdfFormat.N_TRIPLES),
        ("dumps/cmq.ttl.gz", "text/turtle", "Turtle", dropped, triples, ox.RdfFormat.TURTLE),
    ]
    written = []
    for rel, media, title, description, data, fmt in plan:
        prefixes = PREFIXES if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
        # mtime=0: the same graph gives byte-identical dumps, hence the same checksums.
        with open(root / rel, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES):
                out.write(f"# {dropped}\n".encode())  # both syntaxes allow a comment line
            ox.serialize(data(), out, format=fmt, prefixes=prefixes)
        written.append((rel, media, f"{title} dump of the CMQ graph", description))
    shapes_rel = "dumps/shapes.ttl.gz"
    with open(root / shapes_rel, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        ox.serialize(
            (
                ox.Triple(q.subject, q.predicate, q.object)
                for q in ox_store.quads_for_pattern(None, None, None, shapes)
            ),
            out,
            format=ox.RdfFormat.TURTLE,
            prefixes=PREFIXES,
        )
    written.append(
        (
            shapes_rel,
            "text/turtle",
            "SHACL shapes of the CMQ graph",
            "The shapes, published apart from the data.",
        )
    )
    return written


def _query_page(endpoint: str | None, lang: str) -> str:
    """A plain page of the catalogue's questions, each a form sent to the endpoint."""
    if endpoint is not None and pages.safe_url(endpoint) is None:
        raise CmqError(f"--endpoint must be an http(s) URL, not {endpoint!r}")
    questions = []
    for q in catalogue().values():
        if q.name.startswith("map-"):
            continue
        questions.append(
            {
                "name": q.name,
                "title": (q.title_en or q.title) if lang == "en" else q.title,
                "description": q.description,
                "text": sparql_prefixes() + q.text,
            }
        )
    doc = "query.en.html" if lang == "en" else "query.html"
    return pages._page("query.html", lang, doc, title="SPARQL", endpoint=endpoint, questions=questions)


def build_site(
    store: EmbeddedStore,
    out: Path,
    *,
    host_url: str | None = None,
    endpoint: str | None = None,
    publisher: str = "Projet cmq-graph",
    version: str | None = None,
    say: Say = lambda _m: None,
) -> SiteReport:
    """Write the publication into ``out`` (replaced only once the new one is complete).

    Files are named by their persistent IRIs under the base (``https://w3id.org/cmq/…``), which
    the DCAT record uses; ``host_url`` is where OUT/ is actually served, the target of the
    w3id.org redirect rules (without it, they are written with a HOST_URL placeholder).
    """
    site_url = BASE
    if host_url is not None:
        if pages.safe_url(host_url) is None:
            raise CmqError(f"--host-url must be an http(s) URL, not {host_url!r}")
        host_url += "" if host_url.endswith("/") else "/"
    if endpoint is not None and pages.safe_url(endpoint) is None:
        raise CmqError(f"--endpoint must be an http(s) URL, not {endpoint!r}")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    report = SiteReport(out=out)
    try:
        say("· dumps…")
        files = _dump_files(store, tmp)
        dumps = [
            Dump(
                site_url + rel,
                media,
                title,
                (tmp / rel).stat().st_size,
                _sha256(tmp / rel),
                True,
                description,
            )
            for rel, media, title, description in files
        ]
        report.dumps = dumps
        sums = "".join(f"{d.sha256}  {d.url.rsplit('/', 1)[-1]}\n" for d in dumps)
        _write(tmp, "dumps/SHA256SUMS", sums.encode())
        say("· metadata…")
        version = version or (store.location.name if store.location else "unversioned")
        # The shapes are not the data: the dataset conforms to them (dcterms:conformsTo).
        data_dumps = [d for d in dumps if "/shapes." not in d.url]
        record = dcat_record(
            store, data_dumps, version=version, site_url=site_url, publisher=publisher, endpoint_url=endpoint
        )
        _write(tmp, "dcat.ttl", record.serialize(format="turtle", encoding="utf-8"))
        _write(
            tmp, "dcat.jsonld", record.serialize(format="json-ld", encoding="utf-8", context=dict(PREFIXES))
        )
        meta = store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(META_GRAPH))
        _write(
            tmp,
            "void.ttl",
            ox.serialize(
                (ox.Triple(q.subject, q.predicate, q.object) for q in meta),
                format=ox.RdfFormat.TURTLE,
                prefixes=PREFIXES,
            ),
        )
        say("· pages…")
        for stem in _stems(store):
            iri = iri_of(stem)
            if iri is None:
                continue
            desc = None if stem in WHOLE_GRAPHS else describe(store, iri)
            if desc is not None and desc.empty:
                continue
            for lang in ("fr", "en"):
                body = document(store, stem, iri, "html", lang, desc)
                if body is not None:
                    _write(tmp, f"{stem}{'.en' if lang == 'en' else ''}.html", body)
                    report.pages += 1
            for ext in RDF_FORMATS:
                body = document(store, stem, iri, ext, "fr", desc)
                if body is not None:
                    _write(tmp, f"{stem}.{ext}", body)
            if desc is not None and is_campus(desc):
                for lang in ("fr", "en"):
                    body = document(store, stem + MAP_SUFFIX, iri + MAP_SUFFIX, "html", lang)
                    if body is not None:
                        _write(tmp, f"{stem}{MAP_SUFFIX}{'.en' if lang == 'en' else ''}.html", body)
        for ext in RDF_FORMATS:
            body = document(store, "shapes", SHAPES_GRAPH, ext, "fr")
            if body is not None:
                _write(tmp, f"shapes.{ext}", body)
        listed = [(d.url.rsplit("/", 1)[-1], d.url[len(site_url) :], d.byte_size, d.sha256) for d in dumps]
        for lang in ("fr", "en"):
            suffix = ".en.html" if lang == "en" else ".html"
            home = pages.render_home(store, lang, entities=True, dumps=listed, query_url="query" + suffix)
            _write(tmp, "index" + suffix, home.encode("utf-8"))
            _write(tmp, "query" + suffix, _query_page(endpoint, lang).encode("utf-8"))
        _write(tmp, "w3id/.htaccess", w3id_htaccess(host_url or "https://HOST_URL/", endpoint).encode())
        _write(tmp, "conneg/nginx.conf", nginx_example().encode())
        report.files = sum(1 for p in tmp.rglob("*") if p.is_file())
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _swap(new: Path, out: Path) -> None:
    """Put ``new`` at ``out``; the previous ``out`` is removed only once the new one is there."""
    os.chmod(new, 0o755)
    if out.exists():
        old = out.parent / f".{out.name}-old-{os.getpid()}"
        os.replace(out, old)
        os.replace(new, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, out)


_ENV = Environment(autoescape=False, keep_trailing_newline=True)  # config files, not HTML

_HTACCESS = """\
# {{ base }} -> {{ site }}
# Redirect rules for the w3id.org registry (https://github.com/perma-id/w3id.org), folder cmq/.
# A thing's IRI (id/…, vocab/…, graph/…, dataset, def) answers 303 See Other with the document
# its client asks for (Cool URIs); a document's IRI (with an extension) is redirected as it is.
Options +FollowSymLinks
RewriteEngine on

# Documents, dumps and metadata: same path on the site.
RewriteRule ^(.+\\.(html|ttl|jsonld|nt|rdf|trig|gz))$ {{ site }}$1 [R=302,L]
RewriteRule ^(dumps/SHA256SUMS|w3id/.*|conneg/.*)$ {{ site }}$1 [R=302,L]
RewriteRule ^$ {{ site }} [R=302,L]
RewriteRule ^sparql$ {{ endpoint }} [R=307,L]
RewriteRule ^catalog$ {{ site }}dcat.ttl [R=303,L]
{% for ext, media in formats %}

RewriteCond %{HTTP_ACCEPT} {{ media | replace("+", "\\\\+") }}
RewriteRule ^((id|vocab|graph)/[^.]+|dataset|def)$ {{ site }}$1.{{ ext }} [R=303,L]
{% endfor %}

# People (and clients asking for nothing in particular): the French page.
RewriteRule ^((id|vocab|graph)/[^.]+|dataset|def)$ {{ site }}$1.html [R=303,L]
"""

_NGINX = """\
# Content negotiation for a server hosting the output of `cmq-graph site` at its root
# (e.g. behind w3id.org/cmq/). A thing's IRI answers 303 to the document its client asks for;
# documents are served as files with their media type.
map $http_accept $cmq_ext {
    default html;
{% for ext, media in formats %}
    "~*{{ media | replace("+", "\\\\+") }}" {{ ext }};
{% endfor %}
}

types {
    text/html html;
{% for ext, media in formats %}
    {{ media }} {{ ext }};
{% endfor %}
}

server {
    listen 80;
    root /srv/cmq-site;   # the folder written by `cmq-graph site`
    charset utf-8;

    location ~ "^/((id|vocab|graph)/[^.]+|dataset|def)$" {
        add_header Vary Accept;
        return 303 $uri.$cmq_ext;
    }
    location = / { try_files /index.html =404; }
    location /dumps/ { add_header Access-Control-Allow-Origin *; }
    location / {
        add_header Access-Control-Allow-Origin *;
        try_files $uri =404;
    }
}
"""


def _formats() -> list[tuple[str, str]]:
    return [(ext, media) for ext, (media, _f) in RDF_FORMATS.items()]


def w3id_htaccess(host_url: str, endpoint: str | None = None) -> str:
    """The rules for the registry's ``cmq/`` folder, redirecting to the site at ``host_url``."""
    return _ENV.from_string(_HTACCESS).render(
        site=host_url, base=BASE, endpoint=endpoint or host_url + "query.html", formats=_formats()
    )


def nginx_example() -> str:
    return _ENV.from_string(_NGINX).render(formats=_formats())


def site_summary(report: SiteReport) -> str:
    lines = [f"Wrote {report.pages} pages, {report.files} files into {report.out}"]
    for d in report.dumps or []:
        lines.append(f"  {d.url}  {d.byte_size} bytes  sha256 {d.sha256}")
    return "\n".join(lines)
