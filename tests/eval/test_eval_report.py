"""The comparison report built from real results files (bm25 vs hybrid on the mini SQuAD)."""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path

import pytest

from odqa.eval.pipeline_eval import PipelineEvaluation
from odqa.eval.report import write_report
from odqa.eval.report_data import build_sections, load_results
from odqa.eval.significance import compare_per_query

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results_files(
    squad_evaluations: dict[str, PipelineEvaluation], tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    out = tmp_path_factory.mktemp("results")
    return [squad_evaluations[name].write(out) for name in ("bm25", "hybrid")]


def test_sections_compare_with_the_baseline(results_files: list[Path]) -> None:
    (section,) = build_sections(load_results(results_files), n_permutations=2000)
    assert section.baseline == "bm25" and [e.name for e in section.pipelines] == ["bm25", "hybrid"]
    assert {"nDCG@10", "MRR", "AR@5"} <= set(section.metrics) and section.primary == "nDCG@10"
    raw = [json.loads(p.read_text(encoding="utf-8")) for p in results_files]
    finals = [next(s for s in r["stages"] if s["name"] == r["final_stage"])["per_query"] for r in raw]
    expected = compare_per_query(finals[1], finals[0], section.metrics, n_permutations=2000)
    assert section.comparisons["hybrid"] == expected
    changed = section.changed["hybrid"]
    assert changed and all(abs(a.delta) >= abs(b.delta) for a, b in itertools.pairwise(changed))
    assert all(c.text for c in changed)  # query texts come from the results files
    (again,) = build_sections(load_results(results_files), baseline="hybrid", n_permutations=2000)
    assert again.baseline == "hybrid" and set(again.comparisons) == {"bm25"}


def test_html_is_self_contained(results_files: list[Path], tmp_path: Path) -> None:
    path = write_report(results_files, tmp_path / "report.html", n_permutations=2000)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", page)  # no network asset
    assert "@import" not in page and "<script" not in page
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 3  # curves, funnel, per-query differences
    assert all(base64.b64decode(img).startswith(PNG_SIGNATURE) for img in images)
    for text in ("bm25", "hybrid", "Funnel", "Queries that changed most", "ragas", "nDCG@10"):
        assert text in page


def test_query_text_is_escaped(results_files: list[Path], tmp_path: Path) -> None:
    data = json.loads(results_files[1].read_text(encoding="utf-8"))
    data["queries"] = {q: "<script>alert(1)</script> & co" for q in data["queries"]}
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(data), encoding="utf-8")
    page = write_report([results_files[0], hostile], tmp_path / "r.html", n_permutations=500).read_text(
        "utf-8"
    )
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


def test_markdown_writes_its_figures(results_files: list[Path], tmp_path: Path) -> None:
    path = write_report(results_files, tmp_path / "report.md", n_permutations=500)
    text = path.read_text(encoding="utf-8")
    figures = re.findall(r"!\[\w+\]\((report_files/[^)]+\.png)\)", text)
    assert len(figures) == 3
    assert all((tmp_path / f).read_bytes().startswith(PNG_SIGNATURE) for f in figures)
    assert "| pipeline |" in text and "p (randomization)" in text


def test_not_a_results_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"kind": "something else"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.json: not an `odqa eval` results file"):
        load_results([bad])
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.json:1: invalid JSON"):
        load_results([bad])
