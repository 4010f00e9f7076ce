"""Tables of up to four columns are not hyphenated; tables of five and more (narrow columns) are
(styles/handbook.css; why: docs/performance.md, "Tables"). The text is the Sourcegraph handbook's
rating table (tests/projects/employee-handbook), set once in four columns and once in six."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import build_ok, chapter, make_project, pdftotext

ROWS = [
    ("Exceeding High Bar", "1:1, 1:2 or 2:1",
     "Your contributions consistently raise the high bar set for individuals at your level; your execution, "
     "both individually and across functions, is consistently excellent.",
     "Exceeds in many, exhibits all, deficient in none.", "~20%",
     "Eligible to receive a compensation increase every impact review cycle."),
    ("Meeting High Bar", "2:2",
     "Your contributions are in line with expectations at your current level and sometimes exceed them; "
     "you are an essential part of the team.",
     "Exceeds in some, exhibits most.", "~70%",
     "Eligible to receive a compensation increase annually."),
    ("Not Meeting High Bar", "3:1, 3:2, 2:3, 1:3 or 3:3",
     "Your contributions are below expectations for your current level and must immediately improve.",
     "Exhibits some, lacks in some, deficient in some.", "~10%",
     "Not eligible for a compensation increase; will need to improve immediately."),
]
HEADER = ("Rating", "Score", "Skill", "Values", "Expected distribution", "Merit increase frequency")
HYPHENATED = re.compile("[a-z][-\u2010\u00ad]\n[a-z]")  # a word cut at a line's end (the text has none of its own)


def table(columns: int) -> str:
    keep = [0, 2, 3, 5] if columns == 4 else list(range(6))
    lines = ["| " + " | ".join(HEADER[i] for i in keep) + " |", "|" + "---|" * len(keep)]
    lines += ["| " + " | ".join(row[i] for i in keep) + " |" for row in ROWS]
    return "\n".join(lines)


def test_four_columns_are_not_hyphenated_six_are(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"content": {
        "03-four.md": chapter("Four columns", table(4)),
        "04-six.md": chapter("Six columns", table(6)),
    }})
    out = tmp_path / "out"
    build_ok(root, out, only=("handbook",))
    text = pdftotext(out / "handbook.pdf")
    four = text[text.index("Four columns", text.index("Second point")):text.index("Six columns", text.rindex("Four"))]
    six = text[text.rindex("Six columns"):]
    for row in ROWS:  # every cell is there, in both
        assert row[0].split()[-1] in four and row[0].split()[-1] in six
    assert not HYPHENATED.search(four), four
    assert HYPHENATED.search(six), six
