"""The machine's reference speed, and whether bf16 pays on its CPU.

Machines of one kind differ up to 3x in speed, so every training time odqa prints comes with a
*reference speed*: a fixed forward + backward + AdamW step of a randomly initialised model of
all-MiniLM-L6-v2's shape (6 layers, hidden 384, 12 heads) with a span head, batch 16 x 192 tokens,
timed after one warm-up step. It needs no model files and takes ~5-10 s on 2 cores.

It runs twice, in fp32 and under CPU bf16 autocast. On CPUs with bf16 dot products
(AVX512-BF16, AMX) autocast is ~2x faster (measured on a 2-core AMD EPYC with AVX512-BF16: 192
tokens 10.1 -> 20.2 windows/s, 128 tokens 14.9 -> 32.8); on CPUs without them it is emulated and
slower. :func:`choose_precision` therefore picks whichever measured faster.

Usage::

    from odqa.train.speed import reference_speed
    ref = reference_speed()
    print(ref.summary())   # "reference speed: fp32 10.1, bf16 20.2 windows/s (MiniLM-L6 fwd+bwd, ...)"
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch

#: the micro-benchmark's shape: batch x tokens
REF_BATCH, REF_TOKENS = 16, 192


@dataclass(frozen=True)
class ReferenceSpeed:
    """Training windows per second of the fixed micro-benchmark, per precision."""

    fp32: float
    bf16: float | None
    threads: int
    cpu: str

    def best(self) -> str:
        """``"bf16"`` when it measured at least 15% faster than fp32, else ``"fp32"``."""
        return "bf16" if self.bf16 is not None and self.bf16 > 1.15 * self.fp32 else "fp32"

    def summary(self) -> str:
        bf16 = f"{self.bf16:.1f}" if self.bf16 is not None else "n/a"
        return (
            f"reference speed: fp32 {self.fp32:.1f}, bf16 {bf16} windows/s "
            f"(MiniLM-L6 fwd+bwd, {REF_BATCH}x{REF_TOKENS} tokens, {self.threads} threads, {self.cpu})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "benchmark": f"MiniLM-L6 fwd+bwd+AdamW {REF_BATCH}x{REF_TOKENS}"}


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or platform.machine()


def _windows_per_s(bf16: bool, steps: int) -> float:
    from transformers import BertConfig, BertForQuestionAnswering

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536
    )
    model = BertForQuestionAnswering(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(1000, 30000, (REF_BATCH, REF_TOKENS), generator=torch.Generator().manual_seed(0))
    positions = torch.arange(REF_BATCH) % REF_TOKENS
    seconds = 0.0
    for step in range(steps + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, start_positions=positions, end_positions=positions).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step:  # the first step warms up allocators and kernels
            seconds += time.perf_counter() - t0
    return REF_BATCH * steps / seconds


def reference_speed(steps: int = 3, bf16: bool = True) -> ReferenceSpeed:
    """Time the micro-benchmark on the CPU with torch's current thread count (fp32, and bf16 unless
    ``bf16=False``)."""
    fp32 = _windows_per_s(False, steps)
    half = _windows_per_s(True, steps) if bf16 else None
    return ReferenceSpeed(
        round(fp32, 2), None if half is None else round(half, 2), torch.get_num_threads(), cpu_name()
    )
