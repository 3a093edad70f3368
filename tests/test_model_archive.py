"""Export -> import of a trained model: a verified round trip, and every kind of bad archive refused."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from odqa.model_archive import MANIFEST_NAME, ModelArchiveError, export_model, import_model, read_archive


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A small model directory shaped like a trained one (files only; the contents are not read)."""
    d = tmp_path / "reader"
    (d / "checkpoints" / "step-5").mkdir(parents=True)
    (d / "checkpoints" / "step-5" / "optimizer.pt").write_bytes(b"x" * 100)
    (d / "config.json").write_text('{"architectures": ["BertForQuestionAnswering"]}')
    (d / "model.safetensors").write_bytes(bytes(range(256)) * 40)
    (d / "odqa_manifest.json").write_text(json.dumps({"odqa_model": "reader", "dev_metrics": {"f1": 60.0}}))
    (d / "adapter").mkdir()
    (d / "adapter" / "adapter_config.json").write_text("{}")
    return d


def _rewrite(
    src: Path, dst: Path, change: dict[str, bytes | None], extra: dict[str, bytes] | None = None
) -> None:
    """Copy archive ``src`` to ``dst`` with members replaced (bytes) or dropped (None), plus ``extra``."""
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        for member in tin:
            data = tin.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name in change:
                data = change[member.name]
                if data is None:
                    continue
                member.size = len(data)
            tout.addfile(member, io.BytesIO(data) if data is not None else None)
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))


def test_round_trip_installs_identical_files_without_checkpoints(model_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "out" / "reader.tar.gz"
    info = export_model(model_dir, archive, role="reader")
    assert info.role == "reader" and info.files == 4
    assert info.model_manifest == {"odqa_model": "reader", "dev_metrics": {"f1": 60.0}}
    manifest, _ = read_archive(archive)
    assert set(manifest["files"]) == {
        "config.json",
        "model.safetensors",
        "odqa_manifest.json",
        "adapter/adapter_config.json",
    }

    target = import_model(archive, tmp_path / "models", role="reader")
    assert target == tmp_path / "models" / "reader"
    for rel in manifest["files"]:
        assert (target / rel).read_bytes() == (model_dir / rel).read_bytes()
    assert not (target / "checkpoints").exists()
    assert not list((tmp_path / "models").glob(".*")), "no temporary directory left behind"


def test_existing_model_is_kept_unless_forced(model_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "r.tar.gz"
    export_model(model_dir, archive, role="reader")
    installed = tmp_path / "models" / "reader"
    installed.mkdir(parents=True)
    (installed / "config.json").write_text("old")
    with pytest.raises(ModelArchiveError, match=r"already exists.*--force"):
        import_model(archive, tmp_path / "models")
    assert (installed / "config.json").read_text() == "old"
    import_model(archive, tmp_path / "models", force=True)
    assert (installed / "config.json").read_text() == (model_dir / "config.json").read_text()


@pytest.mark.parametrize(
    ("change", "extra", "message"),
    [
        ({"model/model.safetensors": b"tampered"}, None, r"model\.safetensors is corrupt"),
        ({"model/config.json": None}, None, r"missing file\(s\).*config\.json"),
        ({}, {"model/evil.py": b"print(1)"}, r"evil\.py is not listed"),
        ({}, {"../escape.txt": b"x"}, r"unsafe path"),
        ({}, {"/etc/passwd": b"x"}, r"unsafe path"),
        ({}, {"other/file": b"x"}, r"unexpected member"),
        ({MANIFEST_NAME: None}, None, r"not an odqa model archive \(no odqa-model\.json\)"),
        ({MANIFEST_NAME: b"{not json"}, None, r"not valid JSON"),
    ],
)
def test_bad_archives_are_refused_and_nothing_is_installed(
    model_dir: Path,
    tmp_path: Path,
    change: dict[str, bytes | None],
    extra: dict[str, bytes] | None,
    message: str,
) -> None:
    good = tmp_path / "good.tar.gz"
    export_model(model_dir, good, role="reader")
    bad = tmp_path / "bad.tar.gz"
    _rewrite(good, bad, change, extra)
    models = tmp_path / "models"
    with pytest.raises(ModelArchiveError, match=message):
        import_model(bad, models)
    assert not (models / "reader").exists()
    assert not models.exists() or not any(models.iterdir())


def test_truncated_and_foreign_files_and_wrong_role(model_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.tar.gz"
    export_model(model_dir, good, role="reader")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelArchiveError, match=r"truncated\.tar\.gz"):
        import_model(truncated, tmp_path / "models")
    text = tmp_path / "notes.tar.gz"
    text.write_text("hello")
    with pytest.raises(ModelArchiveError, match="not a readable odqa model archive"):
        import_model(text, tmp_path / "models")
    with pytest.raises(ModelArchiveError, match="holds a reader model, not a reranker"):
        import_model(good, tmp_path / "models", role="reranker")
    with pytest.raises(ModelArchiveError, match="no such file"):
        import_model(tmp_path / "missing.tar.gz", tmp_path / "models")
    assert not (tmp_path / "models" / "reader").exists()


def test_export_refuses_a_directory_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelArchiveError, match="not a model directory"):
        export_model(tmp_path, tmp_path / "x.tar.gz", role="reader")
