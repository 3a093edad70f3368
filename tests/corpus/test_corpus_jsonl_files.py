"""Plain JSON-lines reader and directory-of-files reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odqa.corpus import IngestError, Problem, html_to_text, read_directory, read_jsonl

# --- jsonl -----------------------------------------------------------------------------------


def test_jsonl_fields_meta_and_generated_ids(tmp_path: Path, problems: list[Problem]) -> None:
    path = tmp_path / "notes.jsonl"
    lines = [
        {"id": "n1", "text": "first", "title": "One", "lang": "en"},
        {"text": "no id here", "source": "web"},
        {"id": "n1", "text": "duplicate"},
        {"id": "n3", "text": ""},
        {"id": "n4"},
        {"id": 5, "text": "integer id", "title": None},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n{oops\n", encoding="utf-8")
    docs = list(read_jsonl(path, on_problem=problems.append, progress=False))
    assert [(d.doc_id, d.text, d.title, d.meta) for d in docs] == [
        ("n1", "first", "One", {"lang": "en"}),
        ("notes-2", "no id here", "", {"source": "web"}),
        ("5", "integer id", "", {}),
    ]
    assert [str(p) for p in problems[:3]] == [
        f"{path}:3: duplicate document id 'n1' (keeping the first)",
        f"{path}:4: document 'n3': empty field \"text\"",
        f"{path}:5: document 'n4': missing field \"text\"",
    ]
    assert problems[3].line == 7
    assert problems[3].reason.startswith("invalid JSON: ")


def test_jsonl_custom_field_names(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"pid": "p1", "body": "hello world", "heading": "H", "id": "kept"}) + "\n")
    docs = list(read_jsonl(path, id_field="pid", text_field="body", title_field="heading", progress=False))
    assert [(d.doc_id, d.text, d.title, d.meta) for d in docs] == [("p1", "hello world", "H", {"id": "kept"})]


def test_jsonl_strict(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(IngestError, match=r"corpus\.jsonl:2: document 'b': missing field \"text\""):
        list(read_jsonl(path, strict=True, progress=False))


# --- directory of files ----------------------------------------------------------------------

HTML = """<!doctype html>
<html><head><title>  The   Page </title><style>p { color: red }</style>
<script>var x = "<p>hidden</p>";</script></head>
<body><h1>Main heading</h1><p>First &amp; only paragraph<br>with a break.</p>
<ul><li>one</li><li>two</li></ul><noscript>no js</noscript></body></html>
"""


def _make_tree(root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "b.txt").write_text("Plain text file.\nSecond line.\n", encoding="utf-8")
    (root / "a.md").write_text("Intro line\n\n## Real *Title* ##\n\nBody text.\n# Later\n", encoding="utf-8")
    (root / "sub" / "page.HTML").write_text(HTML, encoding="utf-8")
    (root / "sub" / "deeper" / "c.htm").write_text("<p>No title here</p>", encoding="utf-8")
    (root / "sub" / "latin1.txt").write_bytes("caf\xe9\nna\xefve".encode("latin-1"))
    (root / "sub" / "empty.md").write_text("  \n\n", encoding="utf-8")
    (root / "image.png").write_bytes(b"\x89PNG")
    (root / ".hidden" / "secret.txt").write_text("not read", encoding="utf-8")


def test_directory_of_mixed_files(tmp_path: Path, problems: list[Problem]) -> None:
    _make_tree(tmp_path)
    docs = list(read_directory(tmp_path, on_problem=problems.append, progress=False))
    assert [d.doc_id for d in docs] == ["a.md", "b.txt", "sub/deeper/c.htm", "sub/page.HTML"]
    by_id = {d.doc_id: d for d in docs}
    assert by_id["a.md"].title == "Real *Title*"
    assert by_id["a.md"].text.startswith("Intro line\n\n## Real")
    assert by_id["a.md"].meta == {"path": "a.md", "format": "markdown"}
    assert by_id["b.txt"].title == "b"
    assert by_id["b.txt"].text == "Plain text file.\nSecond line.\n"
    assert by_id["sub/deeper/c.htm"].title == "c"
    assert by_id["sub/deeper/c.htm"].text == "No title here"
    page = by_id["sub/page.HTML"]
    assert page.title == "The Page"
    assert page.text == "Main heading\n\nFirst & only paragraph\nwith a break.\n\none\n\ntwo"
    assert page.meta["format"] == "html"
    assert [(Path(p.path).name, p.line, p.reason.split(":")[0]) for p in problems] == [
        ("empty.md", None, "empty document"),
        ("latin1.txt", 1, "not UTF-8 text"),
    ]


def test_directory_strict(tmp_path: Path) -> None:
    _make_tree(tmp_path)
    with pytest.raises(IngestError, match=r"empty\.md: empty document"):
        list(read_directory(tmp_path, strict=True, progress=False))


def test_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="missing"):
        read_directory(tmp_path / "missing")


def test_html_to_text_skips_scripts_and_keeps_blocks() -> None:
    text, title = html_to_text("<div>a<script>b</script>c</div><table><tr><td>x</td><td>y</td></tr></table>")
    assert (text, title) == ("ac\n\nx\n\ny", "")
