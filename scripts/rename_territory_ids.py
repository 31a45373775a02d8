#!/usr/bin/env python3
"""Rename the former territory ids (``region-normandie``, ``commune-fecamp``...) to the ids on
official codes (``region-28``, ``commune-76259``) in CSV files, in place.

Why: the territories moved to INSEE codes (issue 10) while other branches were adding rows that
still cite the former ids; after a merge, run this on ``data/`` then ``scripts/territories.py``.
Only whole ids are replaced (``region-normandie-collectivite``, an organisation, is left alone).

    python scripts/rename_territory_ids.py [data/*.csv ...]   # default: every CSV of data/
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

RENAMED = {
    "region-normandie": "region-28",
    "region-haute-normandie": "region-23",
    "region-basse-normandie": "region-25",
    "commune-saint-etienne-du-rouvray": "commune-76575",
    "commune-sotteville-les-rouen": "commune-76681",
    "commune-le-mesnil-esnard": "commune-76429",
    "commune-cherbourg-octeville": "commune-50129",
    "commune-fecamp": "commune-76259",
}
PATTERN = re.compile(
    r"(?<![\w-])(" + "|".join(map(re.escape, sorted(RENAMED, key=len, reverse=True))) + r")(?![\w-])"
)


def rename(text: str) -> tuple[str, int]:
    return PATTERN.subn(lambda m: RENAMED[m.group(1)], text)


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted((Path(__file__).resolve().parent.parent / "data").glob("*.csv"))
    for path in files:
        new, count = rename(path.read_text(encoding="utf-8"))
        if count:
            path.write_text(new, encoding="utf-8")
            print(f"{path}: {count} id(s) renamed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
