"""The query page in a real browser (Debian's Chromium driven by Playwright), offline.

The page is served by ``cmq-graph serve``; every request that does not go to that server is
refused and recorded, and none may be made. A catalogue question opened from the list and run
from YASGUI must show as many rows as the embedded store answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_program
from serve_helpers import Served, serve

from cmq_graph import catalog
from cmq_graph.store import EmbeddedStore
from cmq_graph.web.query_page import example, render

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "serve"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def served(store_root: Path) -> Iterator[Served]:
    with serve(store_root) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = require_program("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """The query page with every request and error recorded; only the server itself is reached."""

    def __init__(self, browser, served: Served, path: str = "/query", html: str | None = None):
        self.base = served.base
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.html, self.path = html, path
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(self.base + path)
        self.page.wait_for_function("window.cmqYasgui !== undefined", timeout=30_000)

    def _route(self, route) -> None:
        url = route.request.url
        if self.html is not None and url == self.base + self.path:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.html)
        elif url.startswith((self.base + "/", "data:", "blob:")):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def close(self) -> None:
        self.context.close()


def test_a_catalogue_question_runs_from_the_page_offline(browser, served, store_root):
    name = "campuses"
    query = catalog.catalogue()[name]
    with EmbeddedStore.open(store_root) as store:
        expected = len(store.query(example(query)).rows)
    assert expected > 0
    page = Page(browser, served)
    try:
        p = page.page
        # The list shows the catalogue: titles, descriptions, parameters.
        button = p.locator(f'#examples button[data-query="{name}"]')
        assert button.inner_text() == query.title
        assert "?as_of date" in p.locator("#examples").inner_text()
        button.click()
        p.wait_for_function(
            "() => cmqYasgui.getTab().getYasqe().getValue().includes('PREFIX cmq:')", timeout=10_000)
        assert p.evaluate("cmqYasgui.getTab().getName()") == query.title
        with p.expect_response(lambda r: r.url.startswith(served.endpoint), timeout=60_000) as answer:
            p.evaluate("cmqYasgui.getTab().getYasqe().query()")
        assert answer.value.status == 200
        p.wait_for_function(
            "() => { const y = cmqYasgui.getTab().getYasr(); return y && y.results"
            " && y.results.getBindings && y.results.getBindings().length > 0; }", timeout=30_000)
        shown = p.evaluate("cmqYasgui.getTab().getYasr().results.getBindings().length")
        assert shown == expected
        # And drawn in the table.
        p.wait_for_selector(".yasr table tbody tr", timeout=30_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / "query-page.png"))
        # An IRI of ours in the results opens on this host (its page), not on w3id.org: a click
        # points the link here before the browser follows it (in a new tab, which headless
        # Chromium only opens for a real user's click; the link is then followed here).
        link = p.locator(".yasr table tbody a[href^='https://w3id.org/cmq/id/']").first.element_handle()
        iri = link.get_attribute("href")
        link.evaluate("a => a.click()")
        local = served.base + "/" + iri.removeprefix("https://w3id.org/cmq/")
        assert link.get_attribute("href") == local
        followed = page.context.new_page()
        response = followed.goto(local)
        # The thing's IRI answers 303 to its document (cmq_graph.web.resources): for a browser,
        # its French HTML page, on this host too, which names the thing.
        assert response is not None and response.status == 200
        assert followed.url == local + ".html"
        assert iri in followed.content()
        assert page.errors == []
        assert page.refused == []
        assert all(u.startswith((served.base + "/", "data:", "blob:")) for u in page.requests)
    finally:
        page.close()


XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>alert(2)</script>"


def test_the_page_shows_hostile_catalogue_text_as_text(browser, served):
    """Titles, descriptions and parameters come from files: shown as text, nothing runs."""
    hostile = catalog.parse(
        f"# title@fr: {XSS_IMG}\n# description: {XSS_SCRIPT}\n"
        f"# param: ?x string = a — {XSS_IMG}\nSELECT ?x WHERE {{ ?x ?p \"{XSS_SCRIPT}\" }}\n",
        "hostile",
    )
    html = render(endpoint="sparql", static="static/", queries={"hostile": hostile})
    page = Page(browser, served, path="/hostile-page", html=html)
    dialogs: list[str] = []
    page.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        p = page.page
        assert p.locator('#examples button[data-query="hostile"]').inner_text() == XSS_IMG
        assert XSS_SCRIPT in p.locator("#examples").inner_text()
        p.locator('#examples button[data-query="hostile"]').click()
        p.wait_for_function("() => cmqYasgui.getTab().getYasqe().getValue().includes('alert(2)')")
        assert p.evaluate("document.querySelectorAll('#examples img, #examples script').length") == 0
        assert dialogs == [] and page.errors == [] and page.refused == []
    finally:
        page.close()
