# ruff: noqa: E501
"""Every catalogue question on the curated Normandy slice: exact rows, worked out from its tables.

The slice (``tests/fixtures/normandie/``) is the curated data as it stood before the national
campuses joined, on official territory codes: small enough for answers read by hand. The
national data is checked against its own tables in ``tests/test_national.py``.

Expectations come from reading the tables (by hand, or by a few lines of Python over the CSV
files where the answer is a plain selection of rows), never from the queries' own output, so a
query that drifts from the data, or data that changes, fails here with a visible difference.
"""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest
from conftest import NORMANDY_DATA

from cmq_graph import api, catalog, paths
from cmq_graph.namespaces import compact
from cmq_graph.store import EmbeddedStore

ORG = "http://www.w3.org/ns/org#"
DATA_DIR = NORMANDY_DATA


@pytest.fixture(scope="module")
def store(normandy_store: EmbeddedStore) -> EmbeddedStore:
    """The Normandy slice's graph (this module's ``store``, in place of the national one)."""
    return normandy_store


def table(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def answer(store: EmbeddedStore, name: str, **params: object) -> list[tuple[str, ...]]:
    """Rows as compact IRIs and lexical forms ("" when unbound)."""
    result = api.run(store, name, **params)
    return [
        tuple(
            "" if t is None else compact(str(t)) if t.__class__.__name__ == "URIRef" else str(t) for t in row
        )
        for row in result.rows
    ]


def drop(rows: list[tuple[str, ...]], *columns: int) -> list[tuple[str, ...]]:
    return [tuple(v for i, v in enumerate(r) if i not in columns) for r in rows]


# -- data quality: no row on the curated data ------------------------------------------------


@pytest.mark.parametrize("name", ["dq-unsourced-entities", "dq-campuses-without-school"])
def test_data_quality_questions_find_nothing(store: EmbeddedStore, name: str) -> None:
    assert answer(store, name) == []


# -- campuses --------------------------------------------------------------------------------


def test_campuses_as_of_2016(store: EmbeddedStore) -> None:
    # labellings.csv: Cherbourg 2013-09-11; Propulsions 2015-03 (founding document) and
    # 2015-02-02 (rectorat de Rouen); Fécamp undated. labels.csv: cmq lasts 4 years (D335-34).
    # Fécamp and Cherbourg reach their région through their commune (territories.csv, Etalab).
    assert drop(answer(store, "campuses"), 0) == [
        ("id:campus/energies-efficacite-energetique-fecamp", "", "id:territory/region-28", "", "", "labellisation non datée"),
        ("id:campus/industrie-energies-cherbourg", "", "id:territory/region-28", "2013-09-11", "2017-09-11", "labellisé"),
        (
            "id:campus/propulsions",
            "vocab:sector/transports",
            "id:territory/region-28",
            "2015-02-02",
            "2019-03",
            "labellisé",
        ),
    ]


@pytest.mark.parametrize(
    ("as_of", "cherbourg", "propulsions"),
    [
        ("2013", "pas encore labellisé", "pas encore labellisé"),  # "2013" < "2013-09-11": not yet
        ("2014-01-01", "labellisé", "pas encore labellisé"),
        ("2015-02-15", "labellisé", "labellisé"),  # one source already says so
        ("2018-01", "label échu", "labellisé"),
        ("2019-02-10", "label échu", "labellisé"),  # 2015-03 + 4 years is still running
        ("2019-04-01", "label échu", "label échu"),
    ],
)
def test_campus_status_follows_the_date(
    store: EmbeddedStore, as_of: str, cherbourg: str, propulsions: str
) -> None:
    status = {r[1]: r[-1] for r in answer(store, "campuses", as_of=as_of)}
    assert status["id:campus/industrie-energies-cherbourg"] == cherbourg
    assert status["id:campus/propulsions"] == propulsions
    assert all(r[0] == as_of for r in answer(store, "campuses", as_of=as_of))


def test_campuses_by_territory_before_and_after_the_merger(store: EmbeddedStore) -> None:
    # campuses.csv: Propulsions lies in académies Caen and Rouen, région Normandie (via its
    # territories); Cherbourg in académie de Caen, and its commune (50129) within département 50
    # within région 28; Fécamp's commune (76259) within 76 within 28 (territories.csv, Etalab);
    # mergers.csv: Caen + Rouen -> Normandie on 2020-01-01.
    before = drop(answer(store, "campuses-by-territory", as_of="2019-06-01"), 0)
    after = drop(answer(store, "campuses-by-territory", as_of="2020-01-01"), 0)
    p, c, f = "id:campus/propulsions", "id:campus/industrie-energies-cherbourg", "id:campus/energies-efficacite-energetique-fecamp"
    normandie = "id:territory/region-28"
    assert before == [
        (f, "cmq:Region", normandie, normandie, ""),
        (c, "cmq:Academie", "id:territory/academie-caen", "id:territory/academie-caen", ""),
        (c, "cmq:Region", normandie, normandie, ""),
        (p, "cmq:Academie", "id:territory/academie-caen", "id:territory/academie-caen", ""),
        (p, "cmq:Academie", "id:territory/academie-rouen", "id:territory/academie-rouen", ""),
        (p, "cmq:Region", normandie, normandie, ""),
    ]
    merger = "id:merger/fusion-academies-normandie-2020"
    assert after == [
        (f, "cmq:Region", normandie, normandie, ""),
        (c, "cmq:Academie", "id:territory/academie-caen", "id:territory/academie-normandie", merger),
        (c, "cmq:Region", normandie, normandie, ""),
        (p, "cmq:Academie", "id:territory/academie-caen", "id:territory/academie-normandie", merger),
        (p, "cmq:Academie", "id:territory/academie-rouen", "id:territory/academie-normandie", merger),
        (p, "cmq:Region", normandie, normandie, ""),
    ]


def test_territory_mergers(store: EmbeddedStore) -> None:
    expected = []
    for m in table("mergers"):
        for merged in sorted(m["predecessors"].split("|")):
            expected.append(
                (
                    f"id:merger/{m['id']}",
                    m["date"],
                    f"id:territory/{merged}",
                    f"id:territory/{m['successor']}",
                    f"id:text/{m['legal_basis']}" if m["legal_basis"] else "",
                    f"id:source/{m['source']}",
                )
            )
    assert sorted(answer(store, "territory-mergers")) == sorted(expected)
    assert [r[1] for r in answer(store, "territory-mergers")] == ["2016-01-01"] * 2 + ["2020-01-01"] * 2


# -- members, schools, partners ---------------------------------------------------------------


def campus_ids() -> set[str]:
    return {r["id"] for r in table("campuses")}


def test_campus_members(store: EmbeddedStore) -> None:
    expected = sorted(
        (
            f"vocab:role/{m['role']}",
            f"id:organisation/{m['member']}",
            m.get("start", ""),
            m.get("end", ""),
            f"id:source/{m['source']}",
        )
        for m in table("memberships")
        if m["organisation"] == "propulsions"
    )
    got = drop(answer(store, "campus-members"), 0)
    assert got == expected
    assert len(got) == 12  # one per membership row of Propulsions, whichever source states it
    other = drop(answer(store, "campus-members", campus="id:campus/industrie-energies-cherbourg"), 0)
    assert {r[1] for r in other} == {
        "id:organisation/rectorat-caen",
        "id:organisation/region-basse-normandie-collectivite",
        "id:organisation/universite-caen",
        "id:organisation/alstom",
        "id:organisation/nucleopolis",
        "id:organisation/edf",
        "id:organisation/erdf",
        "id:organisation/dcns",
        "id:organisation/uimm",
    }


def test_campus_schools(store: EmbeddedStore) -> None:
    # Of Propulsions' members, Normandie Université (comue: pilote) and the
    # lycée La Châtaigneraie (membre) are of a school-kind; the rest are bodies and partners.
    assert drop(answer(store, "campus-schools"), 0) == [
        ("vocab:school-kind/comue", "id:organisation/normandie-universite", "vocab:role/pilote", "", "id:source/campus-propulsions-missions"),
        ("vocab:school-kind/lycee", "id:organisation/lycee-la-chataigneraie", "vocab:role/membre", "", "id:source/enseignement-catholique"),
    ]  # fmt: skip
    cherbourg = drop(answer(store, "campus-schools", campus="id:campus/industrie-energies-cherbourg"), 0)
    assert cherbourg == [
        (
            "vocab:school-kind/universite",
            "id:organisation/universite-caen",
            "vocab:role/porteur",
            "",
            "id:source/ac-caen",
        )
    ]


def test_shared_partners(store: EmbeddedStore) -> None:
    campuses = campus_ids()
    seen: dict[str, set[str]] = defaultdict(set)
    for m in table("memberships"):
        if m["organisation"] in campuses:
            seen[m["member"]].add(m["organisation"])
    expected = sorted(
        ((f"id:organisation/{o}", str(len(c))) for o, c in seen.items() if len(c) >= 2),
        key=lambda r: (-int(r[1]), r[0]),
    )
    assert drop(answer(store, "shared-partners"), 0) == expected
    assert [r[0] for r in expected] == [
        "id:organisation/rectorat-caen",
        "id:organisation/uimm",
    ]
    everyone = drop(answer(store, "shared-partners", min_campuses=1), 0)
    assert len(everyone) == len(seen)


def test_is_member(store: EmbeddedStore) -> None:
    assert api.run(store, "is-member").boolean is True  # rectorat-caen in Propulsions
    assert api.run(store, "is-member", organisation="id:organisation/edf").boolean is False
    assert (
        api.run(
            store,
            "is-member",
            organisation="id:organisation/edf",
            campus="id:campus/industrie-energies-cherbourg",
        ).boolean
        is True
    )


def test_organisation_profile(store: EmbeddedStore) -> None:
    rows = drop(answer(store, "organisation-profile"), 0, 6)
    memberships = [r for r in rows if r[0] == "member of"]
    assert memberships == [
        ("member of", "org:organization", "id:campus/industrie-energies-cherbourg", "vocab:role/porteur", "id:source/ac-caen"),
        ("member of", "org:organization", "id:campus/propulsions", "vocab:role/pilote", "id:source/campus-propulsions-missions"),
    ]  # fmt: skip
    # organisations.csv: three sources describe the rectorat de Caen, each with its label.
    labels = {(r[2], r[4]) for r in rows if r[1] == "rdfs:label"}
    assert labels == {
        ("Rectorat de l'académie de Caen", f"id:source/{s}")
        for s in ("ac-caen", "ac-rouen-105908", "campus-propulsions-missions")
    }
    assert all(r[4].startswith("id:source/") for r in rows)


def test_organisation_graph(store: EmbeddedStore) -> None:
    graph = api.graph(api.run(store, "organisation-graph"))
    members = {str(o) for o in graph.objects(None, api.URIRef(ORG + "organization"))}
    assert {compact(m) for m in members} == {
        "id:campus/propulsions",
        "id:campus/industrie-energies-cherbourg",
    }
    subjects = {compact(str(s)) for s in graph.subjects()}
    assert "id:organisation/rectorat-caen" in subjects
    assert {s for s in subjects if s.startswith("id:membership/")} == {
        f"id:membership/{m['id']}" for m in table("memberships") if m["member"] == "rectorat-caen"
    }


# -- labels over time ------------------------------------------------------------------------


def test_labellings(store: EmbeddedStore) -> None:
    expected = [
        (f"id:campus/{r['campus']}", f"id:labelling/{r['id']}", r["date"], "", "", f"id:source/{r['source']}")
        for r in table("labellings")
        if r["date"]
    ]
    assert answer(store, "labellings") == sorted(expected, key=lambda r: (r[0], r[2], r[1], r[5]))


def test_labellings_by_year(store: EmbeddedStore) -> None:
    # propulsions-2015 counts once, in 2015 (2015-02-02 is earlier than 2015-03).
    assert answer(store, "labellings-by-year") == [("2013", "1", "1"), ("2015", "1", "1")]


def test_expiring_labels(store: EmbeddedStore) -> None:
    cherbourg = ("id:campus/industrie-energies-cherbourg", "id:labelling/industrie-energies-cherbourg-2013")
    assert drop(answer(store, "expiring-labels"), 0, 1) == [
        (*cherbourg, "2013-09-11", "2017-09-11", "id:source/ac-caen")
    ]
    # Propulsions: 2015-02-02 + 4 = 2019-02-02 and 2015-03 + 4 = 2019-03, one row per claim.
    rows = drop(answer(store, "expiring-labels", as_of="2018-06-01", months=12), 0, 1)
    assert rows == [
        ("id:campus/propulsions", "id:labelling/propulsions-2015", "2015-02-02", "2019-02-02", "id:source/ac-rouen-105908"),
        ("id:campus/propulsions", "id:labelling/propulsions-2015", "2015-03", "2019-03", "id:source/campus-propulsions-missions"),
    ]  # fmt: skip
    assert drop(answer(store, "expiring-labels", as_of="2018-06-01", months=8), 0, 1) == rows[:1]
    assert answer(store, "expiring-labels", as_of="2012-01-01", months=600) == []


def test_label_counts(store: EmbeddedStore) -> None:
    expected = []
    for r in table("counts"):
        expected.append(
            (
                r["date"],
                f"id:label/{r['label']}",
                f"id:count/{r['id']}",
                f"id:territory/{r['territory']}" if r["territory"] else "",
                r["total"],
                r["new"],
                r["regions"],
                r["wording_fr"],
                f"id:source/{r['source']}",
            )
        )
    got = drop(answer(store, "label-counts"), 9)
    assert sorted(got) == sorted(expected)
    assert [r[0] for r in got] == sorted(r[0] for r in got)


# -- the label, its texts and bodies ---------------------------------------------------------


def test_label_legal_basis(store: EmbeddedStore) -> None:
    got = drop(answer(store, "label-legal-basis"), 0)
    texts = {r[0] for r in got}
    # labels.csv (cmq): created_by decret-2014-1100; legal_basis D335-33, D335-34,
    # decret-2019-09-16, arrete-2019-09-26, cahier-des-charges-2018; legal_texts.csv chains:
    # the décret is based on loi-2013-595 and changes D335-33..35, which are part of the
    # section, part of the code.
    assert texts == {
        f"id:text/{t}"
        for t in (
            "decret-2014-1100",
            "loi-2013-595",
            "code-education-d335-33",
            "code-education-d335-34",
            "code-education-d335-35",
            "code-education-section-label-cmq",
            "code-education",
            "decret-2019-09-16",
            "arrete-2019-09-26",
            "cahier-des-charges-2018",
        )
    }
    links = {(r[0], r[3], r[4]) for r in got if r[3]}
    eli = "eli:"
    assert links == {
        ("id:text/decret-2014-1100", f"{eli}based_on", "id:text/loi-2013-595"),
        *{("id:text/decret-2014-1100", f"{eli}changes", f"id:text/code-education-d335-3{i}") for i in (3, 4, 5)},
        *{(f"id:text/code-education-d335-3{i}", f"{eli}is_part_of", "id:text/code-education-section-label-cmq") for i in (3, 4, 5)},
        ("id:text/code-education-section-label-cmq", f"{eli}is_part_of", "id:text/code-education"),
    }  # fmt: skip
    dated = {(r[0], r[2]) for r in got if r[2]}
    assert dated == {
        ("id:text/decret-2014-1100", "2014-09-29"),
        ("id:text/loi-2013-595", "2013-07-08"),
        ("id:text/decret-2019-09-16", "2019-09-16"),
        ("id:text/arrete-2019-09-26", "2019-09-26"),
    }


def test_labelling_procedure(store: EmbeddedStore) -> None:
    expected = []
    for s in table("procedure_steps"):
        for actor in s["actors"].split("|") if s["actors"] else [""]:
            for kind in s["actor_kinds"].split("|") if s["actor_kinds"] else [""]:
                for basis in s["legal_basis"].split("|") if s["legal_basis"] else [""]:
                    expected.append(
                        (
                            s["order"],
                            f"id:procedure-step/{s['id']}",
                            f"id:organisation/{actor}" if actor else "",
                            next(
                                (f"vocab:{scheme}/{kind}" for scheme in ("body-kind",) if kind),
                                "",
                            ),
                            f"id:text/{basis}" if basis else "",
                        )
                    )
    got = drop(answer(store, "labelling-procedure"), 0)
    assert sorted(got) == sorted(expected)
    assert [r[0] for r in got] == sorted(r[0] for r in got)


def test_procedure_bodies(store: EmbeddedStore) -> None:
    got = {r[1:4] for r in answer(store, "procedure-bodies")}
    label_parts = {
        ("cmq:underTutelageOf", b) for b in ("menesr", "ministere-emploi", "ministere-economie")
    } | {
        ("cmq:awardedBy", "groupe-experts-cmq"),
        ("cmq:examinedBy", "groupe-experts-cmq"),
        ("cmq:opinionBy", "cnee"),
    }
    label_parts |= {
        ("cmq:grantedBy", b)
        for b in (
            "ministere-education-nationale",
            "ministere-formation-professionnelle",
            "ministere-enseignement-superieur",
            "ministere-economie",
        )
    }
    for part, body in label_parts:
        assert (f"id:organisation/{body}", part, "id:label/cmq") in got
    for s in table("procedure_steps"):
        for actor in filter(None, s["actors"].split("|")):
            assert (f"id:organisation/{actor}", "cmq:actor", f"id:procedure-step/{s['id']}") in got
    for seat in table("expert_seats"):
        for body in filter(None, seat.get("represented", "").split("|")):
            assert (f"id:organisation/{body}", "cmq:represents", f"id:seat/{seat['id']}") in got
        for body in filter(None, seat.get("appointed_by", "").split("|")):
            assert (f"id:organisation/{body}", "cmq:appointedBy", f"id:seat/{seat['id']}") in got
    n_steps = sum(len(list(filter(None, s["actors"].split("|")))) for s in table("procedure_steps"))
    n_seats = sum(
        len(list(filter(None, seat.get(c, "").split("|"))))
        for seat in table("expert_seats")
        for c in ("represented", "appointed_by")
    )
    assert len(got) == len(label_parts) + n_steps + n_seats


def test_expert_group(store: EmbeddedStore) -> None:
    got = drop(answer(store, "expert-group"), 0)
    seats = {r[0]: r[1] for r in got}
    assert seats == {f"id:seat/{s['id']}": s["count"] for s in table("expert_seats")}
    assert {r[-1] for r in got} == {"id:source/legifrance-code-education-d335-35"}


# -- sources and disagreements ---------------------------------------------------------------


def test_sources(store: EmbeddedStore) -> None:
    got = answer(store, "sources")
    sources = table("sources")
    assert {r[0]: r[1] for r in got} == {f"id:source/{s['id']}": s["title"] for s in sources}
    # Distinct subjects each source describes: the ids of the rows citing it (and a geometry
    # node for each located organisation or territory).
    subjects: dict[str, set[str]] = defaultdict(set)
    from cmq_graph.tables import TABLES

    for t in TABLES:
        if not t.sourced:
            continue
        for r in table(t.name) if (DATA_DIR / t.file).exists() else []:
            subjects[r["source"]].add(f"{t.path}/{r['id']}")
            if t.geometry and r.get("latitude"):
                subjects[r["source"]].add(f"{t.path}/{r['id']}#geometry")
    assert {r[0]: int(r[5]) for r in got} == {f"id:source/{s['id']}": len(subjects[s["id"]]) for s in sources}
    counts = [int(r[4]) for r in got]
    assert counts == sorted(counts, reverse=True)


def test_source_conflicts(store: EmbeddedStore) -> None:
    got = drop(answer(store, "source-conflicts"), 2, 4)
    found = {(r[0], r[1], r[2], r[3]) for r in got}
    # The disagreements the curators recorded as rows of the same id: the Propulsions labelling
    # date, and the count of the first call (12 or 14 campuses).
    assert (
        "id:labelling/propulsions-2015",
        "cmq:labellingDate",
        "id:source/ac-rouen-105908",
        "id:source/campus-propulsions-missions",
    ) in found
    assert (
        "id:count/cmq-2013-premier-appel",
        "cmq:totalCampuses",
        "id:source/ac-caen",
        "id:source/banquedesterritoires-premier-appel",
    ) in found
    assert not [r for r in got if r[1] in {"rdfs:comment", "dcterms:description"}]
    full = answer(store, "source-conflicts")
    date = next(r for r in full if r[1] == "cmq:labellingDate")
    assert (date[2], date[4]) == ("2015-02-02", "2015-03")
    assert all(r[3] < r[5] for r in full)


def test_every_catalogue_query_has_an_exact_test() -> None:
    """A new catalogue question comes with its expected rows here (map-* are tested with the maps)."""
    source = (paths.PROJECT_ROOT / "tests" / "test_catalog_curated.py").read_text(encoding="utf-8")
    missing = [n for n in catalog.catalogue() if not n.startswith("map-") and f'"{n}"' not in source]
    assert missing == []


@pytest.mark.parametrize("name", sorted(catalog.catalogue()))
def test_no_duplicate_rows(store: EmbeddedStore, name: str) -> None:
    """Claims repeated in several sources' graphs must not repeat rows (union-graph joins)."""
    q = catalog.catalogue()[name]
    if any(p.required for p in q.params):
        pytest.skip("needs a parameter")
    result = api.run(store, q)
    if result.kind == "select":
        assert len(result.rows) == len(set(result.rows))


# -- coverage: the graph against the published counts -------------------------------------------


def test_coverage(store: EmbeddedStore) -> None:
    # labellings.csv: Cherbourg 2013-09-11; Propulsions 2015-03 and 2015-02-02 (appel-2); Fécamp
    # undated; all three in région 28 (territories.csv). counts.csv gives the stated figures.
    got = answer(store, "coverage")
    cmq, exc, n28 = "id:label/cmq", "id:label/mention-excellence", "id:territory/region-28"

    def src(s: str) -> str:
        return f"id:source/{s}"

    counted = [r for r in got if r[10]]
    assert counted == sorted(
        [
            ("", "2013", cmq, "", "12", "", "l'un des 12 campus labellisés", "1", "", "1", "id:count/cmq-2013-premier-appel", src("ac-caen")),
            ("", "2013", cmq, "", "14", "", "", "1", "", "1", "id:count/cmq-2013-premier-appel", src("banquedesterritoires-premier-appel")),
            ("", "2016-01-29", cmq, "", "47", "10", "", "2", "0", "1", "id:count/cmq-2016-01-29", src("localtis-2016-01-29")),
            ("", "2016-10", cmq, "", "51", "", "", "2", "", "1", "id:count/cmq-2016-10", src("banquedesterritoires-2016-10")),
            ("", "2017-02", cmq, "", "77", "", "", "2", "", "1", "id:count/cmq-2017-02", src("enseignement-catholique-2017-02")),
            # 2014-2018: Cherbourg (2013) is before the period.
            ("", "2018", cmq, "", "95", "", "", "1", "", "1", "id:count/cmq-2014-2018", src("banquedesterritoires-2019-labellisation-evolue")),
            ("", "2018", cmq, "", "", "", "plus d'une centaine", "1", "", "1", "id:count/cmq-2014-2018", src("education-gouv-cid79563")),
            ("", "2018", cmq, "", "95", "", "", "1", "", "1", "id:count/cmq-2014-2018", src("toutpourlemploi")),
            ("", "2021-03-18", cmq, "", "", "21", "", "2", "0", "1", "id:count/cmq-2021-03-18", src("banquedesterritoires-2021")),
            ("", "2021-03-18", cmq, "", "", "21", "", "2", "0", "1", "id:count/cmq-2021-03-18", src("onisep-documentation")),
            ("", "2021-03-18", exc, "", "40", "11", "", "0", "0", "0", "id:count/excellence-2021-03-18", src("banquedesterritoires-2021")),
            ("", "2021-03-18", exc, "", "40", "11", "", "0", "0", "0", "id:count/excellence-2021-03-18", src("onisep-documentation")),
            ("", "2022-04", cmq, "", "", "11", "", "2", "0", "1", "id:count/cmq-2022-04", src("centre-inffo-2022-04-25")),
            # Normandie in February 2015: Cherbourg and Propulsions (2015-02-02) by then, Propulsions new.
            (n28, "2015-02", cmq, "", "4", "2", "", "2", "1", "1", "id:count/normandie-2015-02", src("ac-rouen-105908")),
        ],
        key=lambda r: (r[0], r[1], r[2], r[10], r[11]),
    )
    held = [(*r[:3], r[7]) for r in got if not r[10]]
    assert held == [
        ("", "", cmq, "1"),  # Fécamp, undated
        ("", "2013", cmq, "1"),
        ("", "2015", cmq, "1"),
        (n28, "", cmq, "1"),
        (n28, "2013", cmq, "1"),
        (n28, "2015", cmq, "1"),
    ]
