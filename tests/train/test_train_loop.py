"""The shared training loop on a toy model: loss history, checkpoints and exact resume."""

from __future__ import annotations

import itertools
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from odqa.train.batching import pad_batch
from odqa.train.checkpoint import list_checkpoints
from odqa.train.common import LoopConfig, build_optimizer, total_optimizer_steps, train_loop, warmup_steps


class Toy(nn.Module):
    """Mean-pooled embeddings -> dropout -> linear; the forward returns the MSE loss."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(50, 8)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(8, 1)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (self.emb(input_ids) * mask).sum(1) / mask.sum(1)
        return nn.functional.mse_loss(self.out(self.drop(pooled)).squeeze(-1), target)


def _items(n: int = 20) -> list[dict[str, Any]]:
    rng = random.Random(0)
    items = []
    for _ in range(n):
        ids = [rng.randint(1, 49) for _ in range(rng.randint(2, 9))]
        items.append({"input_ids": ids, "attention_mask": [1] * len(ids), "target": float(sum(ids) % 7)})
    return items


def _cfg(**kw: Any) -> LoopConfig:
    base: dict[str, Any] = dict(
        epochs=3,
        batch_size=4,
        lr=0.05,
        warmup=1,
        seed=5,
        device="cpu",
        grad_accum=2,
        progress=False,
        measure_speed=False,
    )
    return LoopConfig(**{**base, **kw})


def _run(
    out: Path, cfg: LoopConfig, fail_at: int | None = None, evaluate: Any = None, step_sleep: float = 0.0
) -> tuple[Toy, Any]:
    items = _items()
    calls = {"n": 0}

    def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        calls["n"] += 1
        if step_sleep:
            time.sleep(step_sleep)  # a step as slow as a real model's, so timing noise stays small
        if fail_at is not None and calls["n"] == fail_at:
            raise KeyboardInterrupt("simulated end of session")
        result: torch.Tensor = model(**batch)
        return result

    model = Toy()
    res = train_loop(
        model,
        items,
        [len(i["input_ids"]) for i in items],
        lambda c: pad_batch(c, 0),
        loss,
        cfg,
        out,
        evaluate=evaluate,
    )
    return model, res


def _log_steps(out: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()]


def test_steps_and_log(tmp_path: Path) -> None:
    _, res = _run(tmp_path, _cfg())
    # 20 items / batch 4 = 5 micro-batches per epoch; accumulation 2 -> 3 steps per epoch
    assert res.steps == res.total_steps == 9
    assert _log_steps(tmp_path) == list(range(1, 10))
    assert res.examples == 60
    assert res.first_loss is not None and res.final_loss is not None
    assert res.items_per_s > 0


def test_max_steps_overrides_epochs(tmp_path: Path) -> None:
    assert total_optimizer_steps(20, _cfg(max_steps=4)) == 4
    _, res = _run(tmp_path, _cfg(max_steps=4))
    assert res.steps == 4


def test_resume_is_exact(tmp_path: Path) -> None:
    full_model, full = _run(tmp_path / "full", _cfg())
    out = tmp_path / "split"
    # micro-batch 12 is in step 7 (epoch 3): the newest checkpoint is then step 6
    with pytest.raises(KeyboardInterrupt):
        _run(out, _cfg(checkpoint_every=2, keep_checkpoints=2), fail_at=12)
    assert [s for s, _ in list_checkpoints(out)] == [4, 6]
    model, res = _run(out, _cfg(checkpoint_every=2, keep_checkpoints=2, resume=True))
    assert res.resumed_from == 6
    assert res.steps == 9
    assert _log_steps(out) == list(range(1, 10))
    assert res.losses == pytest.approx(full.losses, abs=1e-5)
    for a, b in zip(full_model.state_dict().values(), model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_fresh_run_clears_old_checkpoints(tmp_path: Path) -> None:
    _run(tmp_path, _cfg(checkpoint_every=2))
    assert list_checkpoints(tmp_path)
    _run(tmp_path, _cfg(max_steps=1))
    assert list_checkpoints(tmp_path) == []


def test_resume_refuses_other_data(tmp_path: Path) -> None:
    _run(tmp_path, _cfg(checkpoint_every=3, max_steps=3))
    with pytest.raises(ValueError, match="other data"):
        _run(tmp_path, _cfg(checkpoint_every=3, resume=True, batch_size=2))


def test_warmup_then_linear_decay() -> None:
    model = nn.Linear(2, 2)
    assert warmup_steps(0.1, 100) == 10 and warmup_steps(3, 100) == 3
    opt, sched = build_optimizer(model, lr=1.0, weight_decay=0.01, total_steps=10, warmup=2)
    lrs = []
    for _ in range(10):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs[0] < lrs[1] < lrs[2]
    assert all(a > b for a, b in itertools.pairwise(lrs[2:]))
    assert sched.get_last_lr()[0] == 0.0
    assert [g["weight_decay"] for g in opt.param_groups] == [0.01, 0.0]  # bias without decay


def test_time_budget_sizes_the_schedule_and_stops(tmp_path: Path) -> None:
    """A 3-second budget with ~20 ms steps: the run ends near the deadline with the learning rate
    decayed most of the way, whatever ``epochs`` says, cycling the data as needed."""
    start = time.perf_counter()
    # epochs=100 would mean 500 steps (warmup 50): the budget, not the epochs, must size the schedule
    _, res = _run(tmp_path, _cfg(minutes=0.05, epochs=100, grad_accum=1, warmup=0.1), step_sleep=0.02)
    elapsed = time.perf_counter() - start
    assert res.steps == res.total_steps and res.steps > 5  # 20 items / batch 4 = 5 steps an epoch
    assert elapsed < 0.05 * 60 + 1.5
    rows = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert max(r["epoch"] for r in rows) >= 1  # cycled past the first epoch
    assert rows[-1]["lr"] <= 0.05 * 0.25  # decayed most of the way by the end
    peak = max(rows, key=lambda r: r["lr"])["step"]
    assert peak <= 0.2 * res.steps  # warmup: 10% of the budgeted steps, not of the epochs' count


def test_budget_and_resume_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="time budget"):
        _run(tmp_path, _cfg(minutes=1, resume=True))


def test_evaluations_make_a_learning_curve_and_keep_the_best_weights(tmp_path: Path) -> None:
    snapshots: list[torch.Tensor] = []

    def evaluate(model: nn.Module) -> dict[str, float]:
        snapshots.append(model.out.weight.detach().clone())  # type: ignore[union-attr]
        return {"f1": [3.0, 9.0, 1.0][len(snapshots) - 1]}  # the 2nd evaluation is the best

    model, res = _run(tmp_path, _cfg(epochs=3, eval_points=3), evaluate=evaluate)
    assert [e["f1"] for e in res.evals] == [3.0, 9.0, 1.0]
    steps = [e["step"] for e in res.evals]
    assert steps == sorted(steps) and steps[-1] == res.steps and len(set(steps)) == 3
    assert res.best_step == steps[1]
    assert torch.equal(model.out.weight, snapshots[1])  # the best weights were restored
    curve = [json.loads(line) for line in (tmp_path / "eval_log.jsonl").read_text().splitlines()]
    assert [c["step"] for c in curve] == steps and all("minutes" in c and "items" in c for c in curve)
