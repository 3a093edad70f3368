"""The training loop shared by the reader, re-ranker and NER trainers.

One loop, parameterised by a ``collate`` (items -> tensors) and a ``compute_loss`` (model, batch ->
scalar loss), provides: seeding, device choice (CUDA when present, with bf16/fp16 autocast), all CPU
threads, CPU bf16 autocast where the CPU measures faster with it (:mod:`odqa.train.speed`; ~2x on
AVX512-BF16 CPUs), length-grouped batches with dynamic padding, AdamW with linear warmup and decay,
gradient accumulation and clipping, a tqdm bar showing the loss and items/s, checkpoints every N
steps with ``resume=True`` continuing from the newest one, and a per-step loss history in
``<output>/train_log.jsonl``.

Two more knobs make CPU training predictable:

* ``minutes``: a wall-clock budget. The loop times its first steps and sizes the learning-rate
  schedule so that it decays to zero when the budget is spent (re-estimated every step from the
  measured step time), cycling the data if needed: a slow machine trains fewer steps, not longer.
* ``eval_points`` with an ``evaluate`` callback: the model is scored that many times, evenly over
  the run (the last at the end); each score goes to ``eval_log.jsonl`` (a learning curve: step,
  items, minutes, metrics) and the best-scoring weights are the ones the loop leaves in the model.

Usage::

    loop = LoopConfig(epochs=2, batch_size=16, lr=5e-5, warmup=0.1, seed=13, device="auto")
    result = train_loop(model, features, lengths, collate, compute_loss, loop, output_dir)
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, get_args, get_origin, get_type_hints

import numpy as np
import torch
from tqdm.auto import tqdm

from odqa.config import resolve_device
from odqa.train.batching import length_grouped_batches
from odqa.train.checkpoint import (
    CHECKPOINTS_DIR,
    LoopState,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
_C = TypeVar("_C")
Batch = dict[str, torch.Tensor]
TRAIN_LOG = "train_log.jsonl"
#: the learning curve: one row per evaluation (step, items, minutes since the start, metrics)
EVAL_LOG = "eval_log.jsonl"


# --------------------------------------------------------------------------- environment
def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and all GPUs)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def cpu_threads() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def pick_device(device: str = "auto", threads: int | None = None) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; on CPU use ``threads`` threads (default: every core).

    On a machine shared with other busy processes, fewer threads than cores can be much faster:
    OpenMP threads wait for each other at every parallel region when one of them is descheduled
    (measured here with a load of ~4 on 2 cores: 1 thread 2x-8x faster than 2). Setting
    ``OMP_WAIT_POLICY=PASSIVE`` before torch starts removes most of that penalty.
    """
    resolved = torch.device(resolve_device(device))
    if resolved.type == "cpu":
        torch.set_num_threads(threads or cpu_threads())
    return resolved


def autocast_dtype(device: torch.device, precision: str = "fp32") -> torch.dtype | None:
    """The mixed-precision dtype: on GPUs bf16 where supported, else fp16; on CPU bf16 only when
    ``precision == "bf16"`` (see :func:`resolve_precision`), else none (fp32)."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if device.type == "cpu" and precision == "bf16" else None


def autocast(device: torch.device, precision: str = "fp32") -> AbstractContextManager[Any]:
    dtype = autocast_dtype(device, precision)
    return torch.autocast(device_type=device.type, dtype=dtype) if dtype else nullcontext()


PRECISIONS = ("auto", "fp32", "bf16")


def resolve_precision(device: torch.device, precision: str, measure: bool) -> tuple[str, dict[str, Any]]:
    """The CPU precision to train in, and the reference speed measured on the way.

    ``auto`` measures :func:`odqa.train.speed.reference_speed` in fp32 and bf16 and keeps the faster;
    ``fp32``/``bf16`` are taken as given (the reference is still measured, in fp32 only, when
    ``measure``). Without ``measure`` nothing is timed and ``auto`` means fp32. On a GPU the precision
    is autocast's (bf16/fp16) and no CPU reference is taken.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if device.type != "cpu":
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
        return "mixed", {"device": name}
    if not measure:
        return ("fp32" if precision == "auto" else precision), {}
    from odqa.train.speed import reference_speed

    ref = reference_speed(bf16=precision == "auto")
    log.info("%s", ref.summary())
    chosen = ref.best() if precision == "auto" else precision
    return chosen, ref.as_dict()


# --------------------------------------------------------------------------- optimisation
def warmup_steps(warmup: float, total_steps: int) -> int:
    """``warmup`` below 1 is a fraction of ``total_steps``; 1 or more is a number of steps."""
    return int(warmup * total_steps) if warmup < 1 else int(warmup)


def build_optimizer(
    model: torch.nn.Module, lr: float, weight_decay: float, total_steps: int, warmup: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (no decay on biases and LayerNorm weights) with linear warmup then linear decay to 0.

    The fused AdamW kernel is used where torch has one (CPU and CUDA): on CPU its step over
    MiniLM's 22M parameters takes ~0.04 s instead of ~0.27 s, a large share of a small-batch step.
    """
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    try:
        optimizer = torch.optim.AdamW(groups, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover - a device without a fused kernel
        optimizer = torch.optim.AdamW(groups, lr=lr)

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, LinearSchedule(total_steps, warmup))


class LinearSchedule:
    """Linear warmup over ``warmup`` steps, then linear decay to 0 at ``total`` steps.

    A callable object rather than a closure so that ``total``/``warmup`` can be re-sized during a
    budgeted run and are saved with the scheduler's state (``LambdaLR`` saves callable objects'
    attributes), so a resumed run continues the same schedule.
    """

    def __init__(self, total: int, warmup: int) -> None:
        self.total = total
        self.warmup = warmup

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        return max(0.0, (self.total - step) / max(1, self.total - self.warmup))


# --------------------------------------------------------------------------- the loop
@dataclass
class LoopConfig:
    """Knobs of :func:`train_loop`; the trainers' configs fill it (they hold the defaults).

    ``batch_size`` is items per forward pass; an optimiser step sees ``batch_size * grad_accum``.
    ``max_steps`` (when set) overrides ``epochs``. ``checkpoint_every=0`` saves no checkpoints.
    """

    epochs: float
    batch_size: int
    lr: float
    warmup: float
    seed: int
    device: str = "auto"
    threads: int | None = None
    weight_decay: float = 0.01
    grad_accum: int = 1
    max_steps: int | None = None
    max_grad_norm: float = 1.0
    checkpoint_every: int = 0
    keep_checkpoints: int = 2
    resume: bool = False
    mega_batch_mult: int = 50
    progress: bool = True
    desc: str = "train"
    precision: str = "auto"
    minutes: float = 0.0
    eval_points: int = 0
    measure_speed: bool = True


_LOOP_FIELDS = (
    "epochs",
    "batch_size",
    "lr",
    "warmup",
    "seed",
    "device",
    "threads",
    "weight_decay",
    "grad_accum",
    "max_steps",
    "checkpoint_every",
    "keep_checkpoints",
    "resume",
    "progress",
    "precision",
    "minutes",
    "eval_points",
    "measure_speed",
)


def loop_config_from(cfg: Any, desc: str) -> LoopConfig:
    """The :class:`LoopConfig` part of a trainer's config (reader, re-ranker, NER share these fields)."""
    return LoopConfig(**{name: getattr(cfg, name) for name in _LOOP_FIELDS}, desc=desc)


@dataclass(kw_only=True)
class TrainConfigBase:
    """The fields every trainer's config shares: where to write, what to start from, the loop,
    LoRA, checkpoints and provenance. Each trainer's config subclasses it, adds its data and model
    fields, and re-declares the defaults it wants different (``epochs``, ``batch_size``, ``lr``).

    ``output_dir``/``base_model`` ``None`` resolve through odqa's settings (``<models_dir>/<role>``,
    the registry's ``base`` role). ``max_steps`` (when set) overrides ``epochs``;
    ``checkpoint_every=0`` saves no checkpoints; ``resume`` continues from the newest one.
    ``precision``: ``auto`` (CPU: bf16 autocast when it measures faster, see :mod:`odqa.train.speed`),
    ``fp32`` or ``bf16``. ``minutes > 0``: train for that wall-clock budget (the schedule is sized from
    the measured step time; ``epochs`` is then ignored, ``max_steps`` still caps).
    ``eval_points``: evaluate that many times over the run and keep the best weights (trainers that
    have a validation set). ``measure_speed``: print the machine's reference speed before training.
    """

    #: the progress-bar label and log name of the trainer
    desc: ClassVar[str] = "train"

    output_dir: str | None = None
    base_model: str | None = None
    epochs: float = 1.0
    batch_size: int = 32
    grad_accum: int = 1
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup: float = 0.1
    seed: int = 42
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    resume: bool = False
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    device: str = "auto"
    threads: int | None = None
    max_steps: int | None = None
    eval_batch_size: int = 64
    progress: bool = True
    precision: str = "auto"
    minutes: float = 0.0
    eval_points: int = 0
    measure_speed: bool = True
    recipe: str | None = None
    command: str | None = None

    def loop_config(self) -> LoopConfig:
        return loop_config_from(self, desc=self.desc)


def config_from_recipe_for(
    cls: type[_C], recipes: dict[str, dict[str, Any]], what: str, name: str, overrides: dict[str, Any]
) -> _C:
    """``cls`` built from recipe ``name`` with ``overrides`` on top (``None`` overrides ignored).

    :raises KeyError: for an unknown recipe.
    :raises TypeError: for an override that is not a field of ``cls``.
    """
    if name not in recipes:
        raise KeyError(f"unknown {what} recipe {name!r}; recipes are {', '.join(recipes)}")
    unknown = sorted(set(overrides) - {f.name for f in fields(cls)})  # type: ignore[arg-type]
    if unknown:
        raise TypeError(f"unknown {what} config field(s): {', '.join(unknown)}")
    hints = get_type_hints(cls)
    given = {k: _coerce(what, k, v, hints[k]) for k, v in overrides.items() if v is not None}
    values = {**recipes[name], **given, "recipe": name}
    return cls(**values)


def _coerce(what: str, name: str, value: Any, hint: Any) -> Any:
    """``value`` as field ``name``'s numeric type when it came as text (``--param lr=1e-4``: YAML
    reads ``1e-4`` as a string); text where no text is allowed is a :class:`TypeError` naming it."""
    if get_origin(hint) is Literal:
        if value not in get_args(hint):
            raise TypeError(f"{what} config field {name} is one of {get_args(hint)}, got {value!r}")
        return value
    allowed = get_args(hint) or (hint,)
    if not isinstance(value, str) or str in allowed or Any in allowed:
        return value
    for typ in (int, float):
        if typ in allowed:
            try:
                return typ(value)
            except ValueError:
                continue
    raise TypeError(f"{what} config field {name} expects {hint}, got {value!r}")


@dataclass
class LoopResult:
    """What :func:`train_loop` did. ``items_per_s`` counts this session only."""

    steps: int
    total_steps: int
    examples: int
    train_seconds: float
    items_per_s: float
    first_loss: float | None
    final_loss: float | None
    device: str
    resumed_from: int | None = None
    losses: list[float] = field(default_factory=list)
    precision: str = "fp32"
    reference_speed: dict[str, Any] = field(default_factory=dict)
    evals: list[dict[str, Any]] = field(default_factory=list)
    best_step: int | None = None


@dataclass
class TrainResult:
    """What a trainer produced: where, how long, how fast and how good."""

    output_dir: str
    steps: int
    examples_per_s: float
    final_loss: float | None
    dev_metrics: dict[str, float]
    train_seconds: float = 0.0
    device: str = "cpu"
    unit: str = "examples"
    extra: dict[str, Any] = field(default_factory=dict)


def total_optimizer_steps(n_items: int, cfg: LoopConfig) -> int:
    per_epoch = math.ceil(math.ceil(n_items / cfg.batch_size) / cfg.grad_accum)
    if cfg.max_steps:
        return cfg.max_steps
    return max(1, math.ceil(per_epoch * cfg.epochs))


def data_fingerprint(lengths: Sequence[int], cfg: LoopConfig) -> str:
    """A short hash of what fixes the batch order: item lengths, batch size, seed, grouping."""
    digest = hashlib.sha256(np.asarray(lengths, dtype=np.int64).tobytes())
    digest.update(f"{cfg.batch_size}/{cfg.seed}/{cfg.mega_batch_mult}".encode())
    return digest.hexdigest()[:16]


def _read_log(path: Path, upto_step: int) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("step", 0) <= upto_step]


def _epoch_batches(lengths: Sequence[int], cfg: LoopConfig, epoch: int) -> list[list[int]]:
    return length_grouped_batches(
        lengths, cfg.batch_size, seed=cfg.seed + epoch, mega_batch_mult=cfg.mega_batch_mult
    )


def _micro_batches(
    lengths: Sequence[int], cfg: LoopConfig, state: LoopState
) -> Iterator[tuple[list[int], bool]]:
    """Yield ``(indices, last_of_epoch)`` forever, from the state's epoch and position, advancing it."""
    while True:
        batches = _epoch_batches(lengths, cfg, state.epoch)
        for i in range(state.batch_in_epoch, len(batches)):
            state.batch_in_epoch = i + 1
            yield batches[i], i + 1 == len(batches)
        state.epoch += 1
        state.batch_in_epoch = 0


class _Progress:
    """Running loss (exponential moving average) and items/s for the bar."""

    def __init__(self) -> None:
        self.ema: float | None = None
        self.items = 0
        self.start = time.perf_counter()

    def update(self, loss: float, items: int) -> dict[str, str]:
        self.ema = loss if self.ema is None else 0.9 * self.ema + 0.1 * loss
        self.items += items
        return {"loss": f"{self.ema:.4f}", "items/s": f"{self.items_per_s():.1f}"}

    def items_per_s(self) -> float:
        return self.items / max(1e-9, time.perf_counter() - self.start)


Evaluate = Callable[[torch.nn.Module], dict[str, float]]


class _Budget:
    """A wall-clock budget: how many optimiser steps fit in what is left of it.

    Steps are timed as they run (evaluations too); the estimate of the total is refreshed every
    step from the last 50 step times, so a machine that slows down mid-run shortens its schedule
    instead of overrunning.
    """

    def __init__(self, minutes: float, eval_points: int) -> None:
        self.deadline = time.perf_counter() + 60.0 * minutes
        self.step_seconds: list[float] = []
        self.eval_seconds = 0.0
        self.evals_left = eval_points
        self._mark = time.perf_counter()

    def tick(self) -> None:
        """A step ended: its wall time since the previous mark (logging and bars included) is timed."""
        now = time.perf_counter()
        self.step_seconds.append(now - self._mark)
        self._mark = now

    def evaluated(self, seconds: float) -> None:
        """An evaluation took ``seconds``: reserve as much for each one left, and restart the step clock."""
        self.evals_left = max(0, self.evals_left - 1)
        self.eval_seconds = seconds
        self._mark = time.perf_counter()

    def spent(self) -> bool:
        return time.perf_counter() >= self.deadline

    def total_steps(self, done: int, cap: int | None) -> int:
        recent = (self.step_seconds[1:] or self.step_seconds)[-50:]  # the first step pays warm-ups
        per_step = sum(recent) / max(1, len(recent))
        left = self.deadline - time.perf_counter() - self.evals_left * self.eval_seconds
        total = done + max(0, int(left / max(per_step, 1e-6)))
        return max(done + 1, min(total, cap) if cap else total)


def _evaluate(model: torch.nn.Module, evaluate: Evaluate) -> dict[str, float]:
    was_training = model.training
    try:
        return evaluate(model)
    finally:
        model.train(was_training)


def train_loop(
    model: torch.nn.Module,
    items: Sequence[T],
    lengths: Sequence[int],
    collate: Callable[[list[T]], Batch],
    compute_loss: Callable[[torch.nn.Module, Batch], torch.Tensor],
    cfg: LoopConfig,
    output_dir: Path,
    size_of: Callable[[T], int] | None = None,
    evaluate: Evaluate | None = None,
    metric: str = "f1",
) -> LoopResult:
    """Train ``model`` in place on ``items`` and return what happened.

    :param items: training items (tokenised features); ``lengths[i]`` is item i's token count.
    :param collate: turns a list of items into a batch of CPU tensors (dynamic padding).
    :param compute_loss: the scalar loss of one batch already moved to the model's device.
    :param output_dir: where ``checkpoints/`` and ``train_log.jsonl`` go. Without ``cfg.resume`` the
        old checkpoints there are deleted; with it, the newest one is loaded (if any) and the run
        continues from its step, epoch and batch, with the same RNG states.
    :param size_of: how many examples one item counts for in items/s (default 1).
    :param evaluate: scores the model (``cfg.eval_points`` times, evenly over the run); the weights
        with the highest ``metric`` are left in the model at the end.
    """
    if not items:
        raise ValueError("no training items")
    if cfg.minutes and cfg.resume:
        raise ValueError("a time budget (minutes) sizes a fresh run; resume a run with a step count instead")
    output_dir.mkdir(parents=True, exist_ok=True)
    if not cfg.resume:  # a fresh run must not later resume from an older run's checkpoints
        shutil.rmtree(output_dir / CHECKPOINTS_DIR, ignore_errors=True)
    seed_everything(cfg.seed)
    device = pick_device(cfg.device, cfg.threads)
    model.to(device)
    precision, reference = resolve_precision(device, cfg.precision, cfg.measure_speed)
    seed_everything(cfg.seed)  # the speed probe drew random numbers
    total = total_optimizer_steps(len(items), cfg)
    optimizer, scheduler = build_optimizer(
        model, cfg.lr, cfg.weight_decay, total, warmup_steps(cfg.warmup, total)
    )
    schedule: LinearSchedule = scheduler.lr_lambdas[0]  # type: ignore[assignment]
    scaler = torch.amp.GradScaler("cuda") if autocast_dtype(device) == torch.float16 else None
    budget = _Budget(cfg.minutes, cfg.eval_points if evaluate else 0) if cfg.minutes > 0 else None
    probe_steps = 5  # a budgeted run fixes its warmup once these are timed

    fingerprint = data_fingerprint(lengths, cfg)
    state, resumed_from = LoopState(data=fingerprint), None
    ckpt = latest_checkpoint(output_dir) if cfg.resume else None
    if ckpt is not None:
        state = load_checkpoint(ckpt, model, optimizer, scheduler, scaler)
        if state.data != fingerprint:
            raise ValueError(
                f"cannot resume from {ckpt}: it was trained on other data or batch settings "
                f"(fingerprint {state.data!r}, now {fingerprint!r}); train without resume to start over"
            )
        resumed_from = state.step
        # the config decides the length of a resumed run (max_steps may have been raised)
        schedule.total, schedule.warmup = total, warmup_steps(cfg.warmup, total)
        log.info("resuming from %s (step %d of %d)", ckpt, state.step, total)
    log_path = output_dir / TRAIN_LOG
    history = _read_log(log_path, state.step) if resumed_from is not None else []
    log_path.write_text("".join(json.dumps(r) + "\n" for r in history), encoding="utf-8")
    losses = [float(r["loss"]) for r in history]
    if resumed_from is None:
        (output_dir / EVAL_LOG).unlink(missing_ok=True)

    evals: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    evals_done = 0

    def due_eval() -> bool:  # at 1/n, 2/n, ... of the (estimated) total, and always at the end
        if evaluate is None or cfg.eval_points <= 0:
            return False
        if state.step >= total:
            return True
        return evals_done + 1 < cfg.eval_points and state.step >= math.ceil(
            total * (evals_done + 1) / cfg.eval_points
        )

    progress = _Progress()
    session_items, session_seconds = 0, 0.0
    started = time.perf_counter()
    # a budgeted run's length is known once its first steps are timed: no total on the bar until then
    bar_total = None if budget is not None and resumed_from is None else total
    bar = tqdm(total=bar_total, initial=state.step, desc=cfg.desc, unit="step", disable=not cfg.progress)
    batches = _micro_batches(lengths, cfg, state)
    model.train()
    with log_path.open("a", encoding="utf-8") as log_file:
        while state.step < total:
            t0 = time.perf_counter()
            step_loss, step_items, micro = 0.0, 0, 0
            while micro < cfg.grad_accum:
                indices, last_of_epoch = next(batches)
                chunk = [items[i] for i in indices]
                batch = {k: v.to(device, non_blocking=True) for k, v in collate(chunk).items()}
                with autocast(device, precision):
                    loss = compute_loss(model, batch)
                scaled = loss / cfg.grad_accum
                (scaler.scale(scaled) if scaler else scaled).backward()
                step_loss += float(loss.detach()) / cfg.grad_accum
                step_items += sum(size_of(x) for x in chunk) if size_of else len(chunk)
                micro += 1
                if last_of_epoch:
                    step_loss *= cfg.grad_accum / micro  # mean over the micro-batches actually run
                    break
            if scaler:
                scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)

            state.step += 1
            state.examples += step_items
            step_seconds = time.perf_counter() - t0
            state.train_seconds += step_seconds
            session_items += step_items
            session_seconds += step_seconds
            losses.append(step_loss)
            postfix = progress.update(step_loss, step_items)
            row = {
                "step": state.step,
                "epoch": state.epoch,
                "loss": round(step_loss, 6),
                "lr": scheduler.get_last_lr()[0],
                "items": state.examples,
                "seconds": round(state.train_seconds, 2),
            }
            log_file.write(json.dumps(row) + "\n")
            log_file.flush()
            if budget is not None:
                budget.tick()
                total = state.step if budget.spent() else budget.total_steps(state.step, cfg.max_steps)
                schedule.total = total
                if state.step == probe_steps:  # the warmup is a share of the budgeted total
                    schedule.warmup = warmup_steps(cfg.warmup, total)
                if state.step >= probe_steps:
                    bar.total = total
            bar.set_postfix(postfix, refresh=False)
            bar.update(1)
            if due_eval():
                assert evaluate is not None
                t_eval = time.perf_counter()
                metrics = _evaluate(model, evaluate)
                evals_done += 1
                if budget is not None:
                    budget.evaluated(time.perf_counter() - t_eval)
                point = {
                    "step": state.step,
                    "items": state.examples,
                    "minutes": round((time.perf_counter() - started) / 60, 2),
                    **metrics,
                }
                evals.append(point)
                with (output_dir / EVAL_LOG).open("a", encoding="utf-8") as eval_file:
                    eval_file.write(json.dumps(point) + "\n")
                log.info("%s step %d: %s", cfg.desc, state.step, metrics)
                score = float(metrics.get(metric, 0.0))
                if best is None or score > best[0]:
                    weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                    best = (score, state.step, weights)
            if cfg.checkpoint_every and (state.step % cfg.checkpoint_every == 0 or state.step == total):
                save_checkpoint(output_dir, state, model, optimizer, scheduler, scaler, cfg.keep_checkpoints)
    bar.close()
    if best is not None and best[1] != state.step:
        log.info("%s: keeping the weights of step %d (%s %.2f)", cfg.desc, best[1], metric, best[0])
        model.load_state_dict(best[2])
    tail = losses[-10:]
    return LoopResult(
        steps=state.step,
        total_steps=total,
        examples=state.examples,
        train_seconds=state.train_seconds,
        items_per_s=session_items / session_seconds if session_seconds else 0.0,
        first_loss=losses[0] if losses else None,
        final_loss=sum(tail) / len(tail) if tail else None,
        device=str(device),
        resumed_from=resumed_from,
        losses=losses,
        precision=precision,
        reference_speed=reference,
        evals=evals,
        best_step=best[1] if best else None,
    )
