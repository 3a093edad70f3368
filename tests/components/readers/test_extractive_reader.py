"""OdqaExtractiveReader: upstream's reader with a span-length limit, checked against upstream itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from haystack import Document
from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

from odqa.components.readers.extractive_reader import OdqaExtractiveReader
from odqa.train.common import TrainResult


@pytest.fixture(scope="module")
def passages(tiny_squad: Path) -> tuple[list[str], list[Document]]:
    data = json.loads(tiny_squad.read_text())["data"]
    paragraphs = [p for article in data[:2] for p in article["paragraphs"]]
    questions = [p["qas"][0]["question"] for p in paragraphs[:4]]
    docs = [Document(content=p["context"], meta={"doc_id": f"p{i}"}) for i, p in enumerate(paragraphs)]
    return questions, docs


def _answers(reader: TransformersExtractiveReader, question: str, docs: list[Document]) -> list[tuple]:
    reader.warm_up()
    out = reader.run(query=question, documents=docs)["answers"]
    return [(a.data, a.document.id if a.document else None, round(a.score, 6)) for a in out]


@pytest.mark.slow
def test_without_a_limit_it_answers_exactly_as_upstream(
    trained_reader: TrainResult, passages: tuple[list[str], list[Document]]
) -> None:
    questions, docs = passages
    ours = OdqaExtractiveReader(
        model=trained_reader.output_dir, no_answer=False, max_answer_length=None, top_k=10
    )
    upstream = TransformersExtractiveReader(model=trained_reader.output_dir, no_answer=False, top_k=10)
    for q in questions:
        assert _answers(ours, q, docs) == _answers(upstream, q, docs)


@pytest.mark.slow
def test_the_limit_bounds_every_answer(
    trained_reader: TrainResult, passages: tuple[list[str], list[Document]]
) -> None:
    questions, docs = passages
    limit = 3
    unlimited = OdqaExtractiveReader(
        model=trained_reader.output_dir, no_answer=False, max_answer_length=None, top_k=20
    )
    limited = OdqaExtractiveReader(
        model=trained_reader.output_dir, no_answer=False, max_answer_length=limit, top_k=20
    )
    tokenizer = None
    long_seen = False
    for q in questions:
        unlimited.warm_up()
        limited.warm_up()
        tokenizer = limited.tokenizer
        for a in unlimited.run(query=q, documents=docs)["answers"]:
            long_seen |= len(tokenizer(a.data, add_special_tokens=False)["input_ids"]) > limit + 1
        answers = limited.run(query=q, documents=docs)["answers"]
        assert answers
        for a in answers:
            assert a.document is not None and a.document_offset is not None
            assert a.document.content[a.document_offset.start : a.document_offset.end] == a.data
            # a span of <= limit tokens; re-tokenising the text alone may split one word differently
            assert len(tokenizer(a.data, add_special_tokens=False)["input_ids"]) <= limit + 1
    assert long_seen, "the unlimited reader never produced a long span: this test would prove nothing"


def test_round_trip_and_validation() -> None:
    reader = OdqaExtractiveReader(model="some/model", max_answer_length=12, top_k=4)
    data = reader.to_dict()
    assert data["type"] == "odqa.components.readers.extractive_reader.OdqaExtractiveReader"
    assert data["init_parameters"]["max_answer_length"] == 12
    again = OdqaExtractiveReader.from_dict(data)
    assert again.max_answer_length == 12 and again.top_k == 4
    with pytest.raises(ValueError, match="max_answer_length"):
        OdqaExtractiveReader(model="some/model", max_answer_length=0)


@pytest.mark.slow
def test_int8_quantizes_on_cpu_and_keeps_the_answers_close(
    trained_reader: TrainResult, passages: tuple[list[str], list[Document]]
) -> None:
    import torch

    questions, docs = passages
    fp32 = OdqaExtractiveReader(model=trained_reader.output_dir, no_answer=False, top_k=5)
    int8 = OdqaExtractiveReader(model=trained_reader.output_dir, no_answer=False, top_k=5, precision="int8")
    int8.warm_up()
    assert int8.model is not None
    kinds = {type(m) for m in int8.model.modules()}
    assert torch.ao.nn.quantized.dynamic.Linear in kinds and torch.nn.Linear not in kinds
    same_passage, gaps = 0, []
    for question in questions:
        a, b = _answers(fp32, question, docs), _answers(int8, question, docs)
        assert b and all(doc in {d.id for d in docs} for _, doc, _ in b)
        same_passage += a[0][1] == b[0][1]
        gaps.append(abs(a[0][2] - b[0][2]))
    # mostly the same best passage, and top scores within a few points of fp32's
    assert same_passage >= len(questions) - 1 and sum(gaps) / len(gaps) < 0.05, (same_passage, gaps)
    again = OdqaExtractiveReader.from_dict(int8.to_dict())
    assert again.precision == "int8" and again.int8_layers == "all"
    attention = OdqaExtractiveReader(
        model=trained_reader.output_dir, precision="int8", int8_layers="attention"
    )
    attention.warm_up()
    assert attention.model is not None
    quantized = {
        n for n, m in attention.model.named_modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)
    }
    assert quantized and all(".attention." in f".{n}." for n in quantized)
    assert any(isinstance(m, torch.nn.Linear) for m in attention.model.modules())  # the rest stays fp32
    with pytest.raises(ValueError, match="precision"):
        OdqaExtractiveReader(model="some/model", precision="int4")  # type: ignore[arg-type]


@pytest.mark.slow
def test_onnx_backend_answers_as_torch_and_caches_the_export_by_weights(
    trained_reader: TrainResult,
    passages: tuple[list[str], list[Document]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    from odqa.utils.onnx_runtime import OrtQuestionAnswering

    monkeypatch.setenv("ODQA_ONNX_CACHE", str(tmp_path / "onnx"))
    questions, docs = passages
    torch_reader = OdqaExtractiveReader(model=trained_reader.output_dir, no_answer=False, top_k=5)
    onnx_reader = OdqaExtractiveReader(
        model=trained_reader.output_dir, no_answer=False, top_k=5, backend="onnx"
    )
    onnx_reader.warm_up()
    assert isinstance(onnx_reader.model, OrtQuestionAnswering)
    (exported,) = (tmp_path / "onnx").glob("reader-*.onnx")
    for q in questions:
        a, b = _answers(torch_reader, q, docs), _answers(onnx_reader, q, docs)
        assert [(text, doc) for text, doc, _ in a] == [(text, doc) for text, doc, _ in b]
        assert all(abs(x[2] - y[2]) < 1e-4 for x, y in zip(a, b, strict=True))
    # the same weights reuse the file; changed weights get a new one
    again = OdqaExtractiveReader(model=trained_reader.output_dir, backend="onnx")
    again.warm_up()
    assert sorted((tmp_path / "onnx").glob("*.onnx")) == [exported]
    assert torch_reader.model is not None and not isinstance(torch_reader.model, OrtQuestionAnswering)
    with torch.no_grad():
        next(torch_reader.model.parameters()).add_(0.01)
    OrtQuestionAnswering.from_torch(torch_reader.model)
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 2
    assert OdqaExtractiveReader.from_dict(onnx_reader.to_dict()).backend == "onnx"
    with pytest.raises(ValueError, match="backend must be torch or onnx"):
        OdqaExtractiveReader(model="some/model", backend="tensorrt")  # type: ignore[arg-type]
    int8 = OdqaExtractiveReader(model=trained_reader.output_dir, backend="onnx", precision="int8")
    int8.warm_up()  # int8 is PyTorch's quantized model whatever the fp32 backend
    assert int8.model is not None and not isinstance(int8.model, OrtQuestionAnswering)
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in int8.model.modules())
