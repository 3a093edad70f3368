"""Every command in the README's table: it exists, shows help, refuses a usage error with exit
code 2 and runs on good input with exit code 0 (in-process through typer's runner, real index,
real models). The README table and the app must list the same commands."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from odqa.cli import app

ROOT = Path(__file__).resolve().parents[2]
cli = CliRunner()


def invoke(env: dict[str, str], *args: str | Path) -> tuple[int, str, str]:
    """Exit code, stdout, and all output with whitespace collapsed (rich wraps lines)."""
    result = cli.invoke(app, [str(a) for a in args], env={"ODQA_NO_TCMALLOC": "1", **env})
    return result.exit_code, result.stdout, " ".join(result.output.split())


def readme_commands() -> list[str]:
    """``index``, ``train reader``, ``models export``... as the README's command table names them."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `odqa ")]
    found: list[str] = []
    for row in rows:
        cell = row.split("|")[1]
        for m in re.finditer(r"`odqa ([a-z]+)(?: ([a-z]+))?", cell):
            name = m.group(1) if m.group(2) is None else f"{m.group(1)} {m.group(2)}"
            if name not in found:
                found.append(name)
    return found


def app_commands() -> list[str]:
    """Every command and sub-command the Typer app registers."""
    out: list[str] = []
    for cmd in app.registered_commands:
        out.append(cmd.name or (cmd.callback.__name__ if cmd.callback else ""))
    for group in app.registered_groups:
        sub = group.typer_instance
        assert isinstance(sub, typer.Typer)
        if group.name == "models":
            out.append("models")  # the group itself runs (the role table)
        out.extend(
            f"{group.name} {c.name or (c.callback.__name__ if c.callback else '')}"
            for c in sub.registered_commands
        )
    return out


def test_readme_table_and_app_list_the_same_commands() -> None:
    readme, registered = set(readme_commands()), set(app_commands())
    assert readme == registered, (
        f"only in README: {readme - registered}; only in the app: {registered - readme}"
    )


@pytest.mark.parametrize("command", app_commands())
def test_every_command_shows_help_and_refuses_an_unknown_option(command: str) -> None:
    code, _, out = invoke({}, *command.split(), "--help")
    assert code == 0 and "Usage" in out, out
    code, _, out = invoke({}, *command.split(), "--no-such-option")
    assert code == 2 and "No such option" in out, out


def test_pipelines_lists_every_graph_and_prints_one() -> None:
    """`odqa pipelines` used to crash on the unquoted ``${local_files_only}`` placeholder."""
    code, _, out = invoke({}, "pipelines")
    assert code == 0, out
    for name in ("qa", "qa_rerank", "hybrid", "hybrid_rerank", "bm25", "dense", "indexing"):
        assert f" {name} " in out
    code, stdout, _ = invoke({}, "pipelines", "qa")
    assert code == 0 and "components:" in stdout and "${reader}" in stdout
    code, _, out = invoke({}, "pipelines", "nope")
    assert code == 1 and "no pipeline named 'nope'" in out


def test_models_table_names_every_role(tmp_path: Path) -> None:
    code, _, out = invoke({"ODQA_MODELS_DIR": str(tmp_path)}, "models")
    assert code == 0, out
    for role in ("embedder", "reranker", "reader", "ner", "base"):
        assert role in out


@pytest.fixture(scope="module")
def retrieval_env(tiny_squad: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`odqa index` of the tiny SQuAD set (embedder only: the retrieval graphs need no trained model)."""
    work = tmp_path_factory.mktemp("cli-commands")
    env = {"ODQA_INDEX_DIR": str(work / "index"), "ODQA_MODELS_DIR": str(work / "models")}
    code, _, out = invoke(env, "index", tiny_squad)
    assert code == 0, out
    assert re.search(r"indexed 15 documents as \d+ passages", out), out
    return env


def test_ask_prints_passages_and_a_real_start_up_time(retrieval_env: dict[str, str]) -> None:
    """`--timings` used to say "warm-up 0.0s": the runner was warmed up before the clock started.
    A fresh process (as a user runs it), since models loaded once stay cached in a process."""
    import os
    import subprocess
    import sys

    env = {**os.environ, **retrieval_env, "ODQA_NO_TCMALLOC": "1"}
    question = "What is the capital of Poland?"
    proc = subprocess.run(
        [sys.executable, "-m", "odqa.cli", "ask", question, "--pipeline", "hybrid", "--timings"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 0, out
    assert "fusion=" in out and "total=" in out
    startup = float(re.search(r"start-up (\d+\.\d)s", out).group(1))  # type: ignore[union-attr]
    assert startup > 0.0  # loading the embedder and opening two stores takes time
    code, stdout, out = invoke(retrieval_env, "ask", "Who?", "--pipeline", "bm25", "--json")
    payload = json.loads(stdout.strip().splitlines()[-1])
    assert code == 0 and payload["answers"] == [] and payload["documents"], out
    assert all(d["doc_id"] and d["passage_id"] for d in payload["documents"])
    code, _, out = invoke(retrieval_env, "ask", "  ", "--pipeline", "bm25")
    assert code == 1 and "empty question" in out


def test_ask_and_search_without_an_index_exit_4(tmp_path: Path) -> None:
    env = {"ODQA_INDEX_DIR": str(tmp_path / "none")}
    code, _, out = invoke(env, "ask", "Who?", "--pipeline", "bm25")
    assert code == 4 and "no index at" in out and "odqa index" in out
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tWho?\n", encoding="utf-8")
    code, _, out = invoke(env, "search", "--queries", queries, "--run", tmp_path / "run.trec")
    assert code == 4 and "no index at" in out


def test_search_writes_a_run_per_stage(retrieval_env: dict[str, str], tmp_path: Path) -> None:
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tcapital of Poland\n2\tSuper Bowl champions\n", encoding="utf-8")
    run, stages = tmp_path / "run.trec", tmp_path / "stages"
    code, _, out = invoke(
        retrieval_env, "search", "--queries", queries, "--run", run, "--stages-dir", stages, "--top-k", "5"
    )
    assert code == 0, out
    assert "stage 'fusion'" in out  # the final stage of hybrid
    lines = run.read_text(encoding="utf-8").splitlines()
    assert {line.split()[0] for line in lines} == {"1", "2"} and len(lines) <= 10
    assert sorted(p.name for p in stages.iterdir()) == [
        "hybrid.bm25.trec",
        "hybrid.dense.trec",
        "hybrid.fusion.trec",
    ]


def test_train_reader_runs_from_the_command_line(tiny_squad: Path, small_base: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "reader"
    code, _, out = invoke(
        {},
        "train",
        "reader",
        "--train-file",
        tiny_squad,
        "--dev-file",
        "",
        "--output-dir",
        out_dir,
        "--base-model",
        small_base,
        "--max-examples",
        "8",
        "--max-steps",
        "2",
        "--minutes",
        "0",
        "--precision",
        "fp32",
        "--param",
        "val_examples=0",
        "--param",
        "batch_size=4",
        "--param",
        "measure_speed=false",
    )
    assert code == 0, out
    assert "reader trained" in out and "2 steps" in out
    assert (out_dir / "config.json").is_file() and (out_dir / "odqa_manifest.json").is_file()


def test_train_reranker_runs_from_the_command_line(tiny_squad: Path, small_base: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "reranker"
    code, _, out = invoke(
        {},
        "train",
        "reranker",
        "--output-dir",
        out_dir,
        "--base-model",
        small_base,
        "--max-examples",
        "4",
        "--max-steps",
        "2",
        "--minutes",
        "0",
        "--precision",
        "fp32",
        "--param",
        f"squad_file={tiny_squad}",
        "--param",
        f"dev_file={tiny_squad}",
        "--param",
        "dev_examples=4",
        "--param",
        "batch_size=4",
        "--param",
        "measure_speed=false",
    )
    assert code == 0, out
    assert "reranker trained" in out
    assert (out_dir / "config.json").is_file()


def test_models_export_of_a_missing_model_exits_3(tmp_path: Path) -> None:
    code, _, out = invoke(
        {"ODQA_MODELS_DIR": str(tmp_path)}, "models", "export", "reader", tmp_path / "r.tar.gz"
    )
    assert code == 3 and "only a local model directory can be exported" in out


def test_es_check_reports_a_server_that_is_down(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, out = invoke({"ELASTICSEARCH_URL": f"http://127.0.0.1:{port}"}, "es", "check")
    assert code == 1 and f"127.0.0.1:{port}" in out


def test_serve_starts_answers_and_refuses_a_missing_index(
    retrieval_env: dict[str, str], tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys
    import time

    import httpx

    code, _, out = invoke({"ODQA_INDEX_DIR": str(tmp_path / "none")}, "serve", "--pipeline", "bm25")
    assert code == 4 and "no index at" in out
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, **retrieval_env, "ODQA_NO_TCMALLOC": "1"}
    cmd = [sys.executable, "-m", "odqa.cli", "serve", "--port", str(port), "--pipeline", "bm25"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "odqa serve did not become ready"
            time.sleep(0.3)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/search", json={"query": "Warsaw", "top_k": 1}, timeout=60)
        assert r.status_code == 200 and len(r.json()["passages"]) == 1
        assert "<title>odqa" in httpx.get(f"http://127.0.0.1:{port}/").text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"odqa serving bm25 on http://127.0.0.1:{port}/" in " ".join(out.split())


def test_bad_graph_settings_exit_1_naming_the_problem(retrieval_env: dict[str, str], tmp_path: Path) -> None:
    code, _, out = invoke(retrieval_env, "ask", "Who?", "--pipeline", "bm25", "--set", "bm25.top_k=-5")
    assert code == 1 and "top_k must be >= 1, got -5" in out
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("components:\n  evil:\n    type: os.system\nconnections: []\n", encoding="utf-8")
    code, _, out = invoke(retrieval_env, "ask", "Who?", "--pipeline", hostile)
    assert code == 1 and "'evil'" in out and "--trust-pipeline" in out


def test_index_with_a_faiss_factory_string_keeps_the_dense_index(tiny_squad: Path, tmp_path: Path) -> None:
    """`--faiss-index` used to point the writer at the live index directory, which the fresh
    build then replaced: the new index had no FAISS part and dense search returned nothing."""
    env = {"ODQA_INDEX_DIR": str(tmp_path / "index"), "ODQA_MODELS_DIR": str(tmp_path / "models")}
    for _ in range(2):  # the second run replaces an existing index
        code, _, out = invoke(env, "index", tiny_squad, "--faiss-index", "HNSW32")
        assert code == 0, out
    manifest = json.loads((tmp_path / "index" / "faiss" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["index_string"] == "HNSW32" and manifest["vectors"] == manifest["documents"] > 0
    code, stdout, out = invoke(env, "ask", "Where did Tesla move?", "--pipeline", "dense", "--json")
    assert code == 0 and json.loads(stdout.strip().splitlines()[-1])["documents"], out


def test_index_set_int8_embedder_recorded_in_the_manifest(tiny_squad: Path, tmp_path: Path) -> None:
    env = {"ODQA_INDEX_DIR": str(tmp_path / "index"), "ODQA_MODELS_DIR": str(tmp_path / "models")}
    code, _, out = invoke(env, "index", tiny_squad, "--set", "doc_embedder.model_precision=int8")
    assert code == 0, out
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["models"]["embedder_precision"] == "int8"
    assert manifest["overrides"]["doc_embedder"] == {"model_precision": "int8"}
    code, stdout, out = invoke(
        env, "ask", "Where did Tesla move?", "--pipeline", "dense", "--json",
        "--set", "query_embedder.model_precision=int8",
    )  # fmt: skip
    assert code == 0 and json.loads(stdout.strip().splitlines()[-1])["documents"], out
    code, _, out = invoke(env, "index", tiny_squad, "--set", "doc_embedder.model_precision=fp16")
    assert code != 0 and "precision must be fp32 or int8" in out
    code, _, out = invoke(env, "index", "--reembed", "--set", "doc_embedder.model_precision=int8")
    assert code != 0 and "takes no --set" in out


def test_serve_set_refuses_a_component_no_served_graph_has(tiny_squad: Path, tmp_path: Path) -> None:
    env = {"ODQA_INDEX_DIR": str(tmp_path / "index"), "ODQA_MODELS_DIR": str(tmp_path / "models")}
    code, _, out = invoke(env, "index", tiny_squad)
    assert code == 0, out
    code, _, out = invoke(env, "serve", "--pipeline", "bm25", "--set", "reader.top_k=2")
    assert code != 0 and "reader" in out and "no served graph" in out


def _bm25_scores(index_dir: Path, queries: list[str]) -> dict[str, dict[str, float]]:
    from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore

    store = EmbeddedBM25DocumentStore(path=str(index_dir / "bm25"))
    return {q: {d.id: float(d.score or 0.0) for d in store.bm25_retrieval(q, top_k=50)} for q in queries}


def _ids(index_dir: Path) -> tuple[set[str], set[str]]:
    from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
    from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore

    bm25 = EmbeddedBM25DocumentStore(path=str(index_dir / "bm25"))
    dense = OdqaFAISSDocumentStore(path=str(index_dir / "faiss"))
    return {d.id for d in bm25.filter_documents()}, {d.id for d in dense.filter_documents()}


def test_append_replaces_documents_and_delete_removes_them_like_a_fresh_build(tmp_path: Path) -> None:
    from odqa.utils.fs import exclusive_lock

    def jsonl(name: str, docs: dict[str, str]) -> Path:
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in docs.items()), "utf-8")
        return path

    long_a = " ".join(f"alpha sentence {i} about red apples and blue skies." for i in range(12))
    docs_b = {
        "b": "Beta is about green whales in the deep blue sea and small red boats.",
        "c": "Gamma: big sky.",
    }
    split = ["--split", "word", "--length", "20", "--overlap", "0"]
    env = {"ODQA_INDEX_DIR": str(tmp_path / "index"), "ODQA_MODELS_DIR": str(tmp_path / "models")}
    assert invoke(env, "index", jsonl("first", {"a": long_a, **docs_b}), *split)[0] == 0
    bm25_ids, faiss_ids = _ids(tmp_path / "index")
    assert len([i for i in bm25_ids if i.startswith("a#")]) > 2 and bm25_ids == faiss_ids
    code, _, out = invoke(
        env, "index", jsonl("update", {"a": "Alpha, now short: red apples."}), *split, "--append"
    )
    assert code == 0 and "stale passages removed" in out, out
    bm25_ids, faiss_ids = _ids(tmp_path / "index")
    assert [i for i in bm25_ids if i.startswith("a#")] == ["a#0"] and bm25_ids == faiss_ids
    queries = ["red apples", "blue sea whales", "big sky"]
    fresh = {"ODQA_INDEX_DIR": str(tmp_path / "fresh"), "ODQA_MODELS_DIR": str(tmp_path / "models")}
    assert (
        invoke(fresh, "index", jsonl("final", {"a": "Alpha, now short: red apples.", **docs_b}), *split)[0]
        == 0
    )
    got, want = _bm25_scores(tmp_path / "index", queries), _bm25_scores(tmp_path / "fresh", queries)
    assert (
        all(abs(got[q][k] - want[q][k]) <= 1e-6 for q in queries for k in want[q])
        and got.keys() == want.keys()
    )

    code, _, out = invoke(env, "delete", "--doc-id", "b", "--doc-id", "nope")
    assert code == 0 and "deleted 1 documents" in out and "not in the index: nope" in out, out
    bm25_ids, faiss_ids = _ids(tmp_path / "index")
    assert not any(i.startswith("b#") for i in bm25_ids) and bm25_ids == faiss_ids
    assert (
        invoke(
            fresh, "index", jsonl("final2", {"a": "Alpha, now short: red apples.", "c": docs_b["c"]}), *split
        )[0]
        == 0
    )
    got, want = _bm25_scores(tmp_path / "index", queries), _bm25_scores(tmp_path / "fresh", queries)
    assert all(abs(got[q][k] - want[q][k]) <= 1e-6 for q in queries for k in want[q])

    with exclusive_lock(tmp_path / "index"):  # a second writer is refused at once
        code, _, out = invoke(env, "delete", "--doc-id", "c")
    assert code == 1 and "another process is writing" in out
    assert invoke(env, "delete")[0] == 1
    assert invoke({"ODQA_INDEX_DIR": str(tmp_path / "none")}, "delete", "--doc-id", "a")[0] == 4


def test_bad_config_queries_graph_and_collection_files_name_the_problem(
    retrieval_env: dict[str, str], tmp_path: Path
) -> None:
    """Rows of the README's bad-input catalogue that had no test."""
    code, _, out = invoke(retrieval_env, "--config", tmp_path / "none.yaml", "pipelines")
    assert code == 1 and "config file not found" in out
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", encoding="utf-8")
    code, _, out = invoke(retrieval_env, "--config", listy, "pipelines")
    assert code == 1 and "expected a mapping of settings at top level" in out

    queries = tmp_path / "queries.csv"
    queries.write_text("q1,what?\n", encoding="utf-8")
    code, _, out = invoke(retrieval_env, "search", "--queries", queries, "--run", tmp_path / "r.trec")
    assert code == 1 and str(queries) in out
    code, _, out = invoke(
        retrieval_env, "search", "--queries", tmp_path / "nope.tsv", "--run", tmp_path / "r.trec"
    )
    assert code == 1 and "nope.tsv" in out

    broken = tmp_path / "broken.yaml"
    broken.write_text("components: {bm25: [\n", encoding="utf-8")
    code, _, out = invoke(retrieval_env, "ask", "Who?", "--pipeline", broken)
    assert code == 1 and "broken.yaml: invalid YAML" in out
    nocomp = tmp_path / "nocomp.yaml"
    nocomp.write_text("connections: []\n", encoding="utf-8")
    code, _, out = invoke(retrieval_env, "ask", "Who?", "--pipeline", nocomp)
    assert code == 1 and "needs a 'components' mapping" in out
    code, _, out = invoke(retrieval_env, "ask", "Who?", "--pipeline", "bm25", "--set", "bm25.top_k=[1,")
    assert code == 1 and "value is not valid YAML" in out

    before = (Path(retrieval_env["ODQA_INDEX_DIR"]) / "manifest.json").read_text(encoding="utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    code, _, out = invoke(retrieval_env, "index", empty)
    assert code == 1 and "no documents were read; the previous index is kept" in out
    assert (Path(retrieval_env["ODQA_INDEX_DIR"]) / "manifest.json").read_text(encoding="utf-8") == before
    code, _, out = invoke(retrieval_env, "ask", "x" * 5000, "--pipeline", "bm25", "--json")
    assert code == 0  # a long question is analysed up to its first 1000 characters, not refused


def test_index_needs_a_collection_unless_reembedding(tmp_path: Path) -> None:
    env = {"ODQA_INDEX_DIR": str(tmp_path / "idx")}
    code, _, out = invoke(env, "index")
    assert code == 1 and "give the collection" in out
    code, _, out = invoke(env, "index", "--reembed", str(tmp_path))
    assert code == 1 and "takes no collection" in out
    code, _, out = invoke(env, "index", "--reembed")
    assert code != 0 and "nothing to re-embed" in out
