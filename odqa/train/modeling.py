"""Model plumbing shared by the trainers: default paths, the base weights, LoRA, saving.

* :func:`default_data_file` / :func:`default_output_dir` resolve ``None`` config values through
  odqa's settings (``ODQA_DATA_DIR``, ``ODQA_MODELS_DIR``), so a trained model lands where
  :class:`odqa.models.ModelRegistry` looks for the ``reader`` / ``reranker`` role.
* :func:`apply_lora` wraps a model with a LoRA adapter on the attention query/value projections and
  keeps the task head fully trainable (``modules_to_save``).
* :func:`save_model_dir` writes a plain Hugging Face model directory; a LoRA model is merged into
  its weights first (``merge_and_unload``) and its adapter is also kept in ``<output>/adapter/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

ADAPTER_DIR = "adapter"


def default_data_file(relative: str) -> str:
    """``<ODQA_DATA_DIR>/<relative>`` (settings' ``data_dir``)."""
    from odqa.config import load_settings

    return str(Path(load_settings().data_dir) / relative)


def default_output_dir(role: str) -> str:
    """Where the model registry looks for ``role`` (``<models_dir>/<role>``)."""
    from odqa.config import load_settings
    from odqa.models import ModelRegistry

    return ModelRegistry(load_settings().resolved_models_dir).default_location(role)


def mining_index_dir(root: Path, collection: str) -> Path:
    """Where a trainer keeps its index of ``collection`` for mining, under ``root``: one per
    embedder (its location's hash in the name), since an index only opens with the embedder that
    wrote its vectors."""
    import hashlib

    from odqa.config import load_settings
    from odqa.models import registry_from_settings

    embedder = registry_from_settings(load_settings()).resolve("embedder").location
    return root / f"{collection}-{hashlib.sha1(embedder.encode()).hexdigest()[:8]}-index"


def base_model_path(base_model: str | None) -> str:
    """Where the weights to start from are: ``base_model`` (a path or hub id), the registry's role
    ``NAME`` for ``role:NAME`` (e.g. ``role:reader``: the trained reader, which a re-ranker learns
    from far faster than from MiniLM), or, when ``None``, the registry's ``base`` role (the local
    all-MiniLM-L6-v2).

    :raises odqa.models.ModelUnavailableError: the role resolves to no model.
    """
    role = "base"
    if base_model:
        if not base_model.startswith("role:"):
            return base_model
        role = base_model.removeprefix("role:")
    from odqa.config import load_settings
    from odqa.models import registry_from_settings

    return registry_from_settings(load_settings()).resolve(role).require().location


def apply_lora(
    model: torch.nn.Module, r: int, alpha: int, dropout: float, head: list[str], task_type: str
) -> torch.nn.Module:
    """Wrap ``model`` in a PEFT LoRA model: adapters on ``query``/``value``, ``head`` fully trained.

    :param head: the task head's module names (``qa_outputs``, ``classifier``) for ``modules_to_save``.
    :param task_type: PEFT task type (``QUESTION_ANS``, ``SEQ_CLS``).
    """
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=["query", "value"],
        modules_to_save=head,
        task_type=task_type,
    )
    return get_peft_model(model, config)


def is_peft(model: torch.nn.Module) -> bool:
    try:
        from peft import PeftModel
    except ImportError:  # pragma: no cover - peft is a dependency
        return False
    return isinstance(model, PeftModel)


def save_model_dir(model: torch.nn.Module, tokenizer: Any, output_dir: Path) -> torch.nn.Module:
    """Save a plain HF model dir (``config.json``, ``model.safetensors``, tokenizer files).

    A PEFT model's adapter goes to ``<output_dir>/adapter/`` and the merged model to ``output_dir``.
    :returns: the plain (merged) model.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    plain = model
    if is_peft(model):
        model.save_pretrained(str(output_dir / ADAPTER_DIR))  # type: ignore[operator]
        tokenizer.save_pretrained(str(output_dir / ADAPTER_DIR))
        plain = model.merge_and_unload()  # type: ignore[operator]
    plain.save_pretrained(str(output_dir))  # type: ignore[operator]
    tokenizer.save_pretrained(str(output_dir))
    return plain


def count_parameters(model: torch.nn.Module) -> dict[str, int]:
    """Total and trainable parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": total, "trainable": trainable}
