"""The question-answering and training commands of the CLI, in-process (typer's runner), on real
indexes and tiny real models (see ``tests/conftest.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from odqa.cli import app
from odqa.corpus.conll import read_conll
from odqa.models import ModelRegistry
from odqa.train.common import TrainResult

cli = CliRunner()


def invoke(env: dict[str, str], *args: str | Path) -> tuple[int, str, str]:
    """Exit code, stdout, and all output with whitespace collapsed (rich wraps lines)."""
    result = cli.invoke(app, [str(a) for a in args], env={"ODQA_NO_TCMALLOC": "1", **env})
    return result.exit_code, result.stdout, " ".join(result.output.split())


@pytest.fixture(scope="module")
def qa_env(
    tiny_squad: Path,
    trained_reader: TrainResult,
    trained_reranker: TrainResult,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """Settings (as environment variables) for a real index of the tiny SQuAD set and tiny models."""
    from odqa.pipelines.env import PipelineEnv
    from odqa.pipelines.indexing import index_collection

    work = tmp_path_factory.mktemp("cli")
    registry = ModelRegistry(
        work / "models",
        overrides={"reader": str(trained_reader.output_dir), "reranker": str(trained_reranker.output_dir)},
    )
    index_collection(tiny_squad, env=PipelineEnv(index_dir=work / "index", registry=registry), progress=False)
    return {
        "ODQA_INDEX_DIR": str(work / "index"),
        "ODQA_MODELS_DIR": str(work / "models"),
        "ODQA_READER_MODEL": str(trained_reader.output_dir),
        "ODQA_RERANKER_MODEL": str(trained_reranker.output_dir),
    }


@pytest.mark.slow
def test_ask_explain_json_shows_entities_answer_type_and_query_change(qa_env: dict[str, str]) -> None:
    question = "When did Tesla move to New York?"
    code, stdout, out = invoke(qa_env, "ask", question, "--json", "--explain")
    assert code == 0, out
    payload = json.loads(stdout.strip().splitlines()[-1])
    assert payload["question"] == question
    report = payload["explain"]
    assert report["analyzed"] and report["component"] == "analyzer"
    assert {"text": "New York", "label": "GPE"}.items() <= report["entities"][0].items()
    assert report["expected_answer_type"]["types"][0] == "DATE"
    # qa boosts entity phrases by 0.5: "new" and "york" weigh 1.5 instead of 1
    assert report["query"]["changed"] == {"new": 1.5, "york": 1.5}
    # term weights as the index's analyzer (english: stop words dropped, Porter stems) sees them
    assert "to" not in report["query"]["before"] and report["query"]["before"]["move"] == 1
    assert payload["answers"] and all(a["doc_id"] and a["passage"] for a in payload["answers"])
    for a in payload["answers"]:
        start, end = a["span"]
        assert a["passage"][start:end] == a["answer"]


@pytest.mark.slow
def test_ask_set_overrides_a_component_parameter(qa_env: dict[str, str]) -> None:
    question = "When did Tesla move to New York?"
    code, stdout, out = invoke(qa_env, "ask", question, "--json", "--explain", "--set", "analyzer.boost=0")
    assert code == 0, out
    payload = json.loads(stdout.strip().splitlines()[-1])
    assert payload["explain"]["entities"] and payload["explain"]["query"]["changed"] == {}
    code, _, out = invoke(qa_env, "ask", question, "--set", "analyzer.nope=1")
    assert code == 1 and "nope" in out
    code, _, out = invoke(qa_env, "ask", question, "--set", "boost=1")
    assert code == 1 and "expected component.parameter=value" in out


@pytest.mark.slow
def test_ask_explain_text_and_a_graph_without_analysis(qa_env: dict[str, str]) -> None:
    code, _, out = invoke(qa_env, "ask", "When did Tesla move to New York?", "--explain")
    assert code == 0, out
    assert "entities: New York [GPE]" in out and "expected answer: DATE" in out
    assert "new 1->1.5" in out
    code, _, out = invoke(qa_env, "ask", "Who founded Warsaw?", "--pipeline", "bm25", "--explain")
    assert code == 0, out
    assert "the pipeline has no QueryAnalyzer" in out


@pytest.fixture(scope="module")
def tiny_conll(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 40 sentences of CoNLL-2003 train with entities, in CoNLL column format."""
    src = data_dir / "conll2003" / "train.txt"
    if not src.is_file():
        pytest.skip(f"{src} not found")
    sentences = [s for s in read_conll(src) if any(t != "O" for t in s.tags)][:40]
    lines = []
    for s in sentences:
        lines += [f"{tok} X X {tag}" for tok, tag in zip(s.tokens, s.tags, strict=True)] + [""]
    path = tmp_path_factory.mktemp("conll") / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_train_ner_writes_a_model_the_registry_finds_by_name(
    tiny_conll: Path, small_base: str, tmp_path: Path
) -> None:
    env = {"ODQA_MODELS_DIR": str(tmp_path)}
    files = ["--train-file", tiny_conll, "--dev-file", tiny_conll, "--test-file", tiny_conll]
    code, _, out = invoke(
        env,
        "train",
        "ner",
        *files,
        "--max-steps",
        "3",
        "--base-model",
        small_base,
        "--param",
        "measure_speed=false",
    )
    assert code == 0, out
    assert "ner trained" in out
    manifest = json.loads((tmp_path / "ner" / "odqa_manifest.json").read_text())
    assert manifest["odqa_model"] == "ner" and manifest["hyperparameters"]["max_steps"] == 3
    ref = ModelRegistry(tmp_path, overrides={"ner": "ner"}).resolve("ner")
    assert ref.kind == "local" and ref.available and Path(ref.location) == tmp_path / "ner"


def test_train_errors_name_the_problem(tmp_path: Path) -> None:
    env = {"ODQA_MODELS_DIR": str(tmp_path)}
    code, _, out = invoke(env, "train", "reranker", "--recipe", "nope")
    assert code != 0 and "unknown reranker recipe 'nope'" in out and "quick" in out
    code, _, out = invoke(env, "train", "ner", "--dataset", "nope", "--max-steps", "1")
    assert code != 0 and "nope" in out
    code, _, out = invoke(env, "train", "reader", "--param", "learning_rate=1")
    assert code == 1 and "unknown reader config field(s): learning_rate" in out
    code, _, out = invoke(env, "train", "reader", "--param", "lr")
    assert code == 1 and "--param 'lr': expected name=value" in out
    assert not (tmp_path / "ner").exists() and not (tmp_path / "reader").exists()


@pytest.mark.slow
def test_demo_skips_training_when_the_models_exist(
    qa_env: dict[str, str], tiny_squad: Path, tmp_path: Path
) -> None:
    env = {**qa_env, "ODQA_INDEX_DIR": str(tmp_path / "index")}
    code, _, out = invoke(env, "demo", "--collection", tiny_squad, "-q", "Which team won Super Bowl 50?")
    assert code == 0, out
    assert "model missing" not in out and "odqa train" not in out
    assert "[1/2] index" in out and "[2/2] answer with the qa graph" in out
    code, _, out = invoke(env, "demo", "--collection", tiny_squad, "-q", "Which team won Super Bowl 50?")
    assert code == 0, out
    assert "[1/1] answer" in out  # indexed already: nothing to do but answer


def test_demo_trains_only_what_the_default_graph_needs(tmp_path: Path, squad_dev: Path) -> None:
    """No reader: the demo starts `odqa train reader --recipe quick` (here it fails at once, the data
    directory being empty) and never the re-ranker, which the default graph does not use."""
    env = {
        "ODQA_MODELS_DIR": str(tmp_path / "models"),
        "ODQA_DATA_DIR": str(tmp_path / "empty"),
        "ODQA_INDEX_DIR": str(tmp_path / "index"),  # not the checkout's own demo index
    }
    code, _, out = invoke(env, "demo", "--collection", squad_dev)
    assert code == 1
    assert "[1/3] reader model missing" in out and "odqa train reader --recipe quick" in out
    assert "reranker" not in out and "training the reader failed" in out
    assert not (tmp_path / "models" / "reader" / "config.json").exists()


@pytest.mark.slow
def test_models_export_then_import_through_the_cli(qa_env: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "reader.tar.gz"
    code, _, out = invoke(qa_env, "models", "export", "reader", archive)
    assert code == 0 and archive.is_file(), out
    env = {"ODQA_MODELS_DIR": str(tmp_path / "models")}
    code, _, out = invoke(env, "models", "import", archive, "--role", "reader")
    assert code == 0, out
    assert (tmp_path / "models" / "reader" / "odqa_manifest.json").is_file()
    assert ModelRegistry(tmp_path / "models").resolve("reader").available
    code, _, out = invoke(env, "models", "import", archive)
    assert code == 1 and "already exists" in out and "--force" in out
    code, _, out = invoke(env, "models", "import", archive, "--role", "reranker", "--name", "other")
    assert code == 1 and "holds a reader model, not a reranker" in out
    code, _, out = invoke(env, "models", "export", "ner", tmp_path / "ner.tar.gz")
    assert code == 3 and "only a local model directory can be exported" in out
