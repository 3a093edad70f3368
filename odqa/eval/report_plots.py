"""Figures of the comparison report, drawn with matplotlib's Agg backend as PNG bytes.

Each function takes a :class:`odqa.eval.report_data.DatasetSection` (or part of it) and returns
the PNG file content; :func:`data_uri` turns it into an ``<img src>`` for a self-contained page.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from odqa.eval.report_data import DatasetSection

__all__ = ["PALETTE", "curves_png", "data_uri", "deltas_png", "funnel_png"]

#: one colour per pipeline, in report order (colour-blind safe: Okabe-Ito)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.dpi": 110,
        }
    )
    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def curves_png(section: DatasetSection) -> bytes | None:
    """P@k and R@k of each pipeline's final stage, side by side (``None`` without curves)."""
    if not any(e.curves for e in section.pipelines):
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
    for i, entry in enumerate(section.pipelines):
        for ax, key in zip(axes, ("P", "R"), strict=True):
            curve = entry.curves.get(key, {})
            if curve:
                ks = sorted(curve)
                ax.plot(
                    ks,
                    [curve[k] for k in ks],
                    marker="o",
                    markersize=3,
                    linewidth=1.6,
                    color=PALETTE[i % len(PALETTE)],
                    label=entry.name,
                )
    for ax, title in zip(axes, ("Precision at k", "Recall at k"), strict=True):
        ax.set_xscale("log")
        ax.set_xticks([1, 2, 5, 10, 20, 50, 100])
        ax.set_xticklabels(["1", "2", "5", "10", "20", "50", "100"])
        ax.set_xlabel("k (log scale)")
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylim(bottom=0)
    axes[1].legend(frameon=False, loc="lower right")
    return _png(fig)


def funnel_png(section: DatasetSection) -> bytes | None:
    """The share of queries whose gold survives each stage: one bar per pipeline and stage.

    Rows are grouped by pipeline (in graph order within a pipeline); answer rows (gold answer
    string in the passages, reader EM) are drawn lighter than document rows.
    """
    rows: list[tuple[str, float, int, bool]] = []  # label, value, pipeline index, is-answer row
    for i, entry in enumerate(section.pipelines):
        for label, value, answer in _funnel_bars(entry.stages):
            rows.append((f"{entry.name} · {label}", value, i, answer))
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.5, 0.32 * len(rows) + 0.9))
    ys = list(range(len(rows)))[::-1]
    for y, (_, value, i, answer) in zip(ys, rows, strict=True):
        ax.barh(y, value, height=0.62, color=PALETTE[i % len(PALETTE)], alpha=0.45 if answer else 0.9)
        ax.text(value + 0.01, y, f"{value:.3f}", va="center", ha="left", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels([r[0] for r in rows])
    ax.set_xlim(0, 1.08)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(
        "share of queries whose gold is still there (doc: a relevant document; answer: a gold answer)"
    )
    starts = [k for k in range(1, len(rows)) if rows[k][2] != rows[k - 1][2]]
    for k in starts:
        ax.axhline(ys[k] + 0.5, color="#bbb", linewidth=0.8)
    return _png(fig)


def _funnel_bars(stages: list[dict[str, Any]]) -> list[tuple[str, float, bool]]:
    bars: list[tuple[str, float, bool]] = []
    for s in stages:
        funnel = s.get("funnel", {})
        depth = round(float(s.get("depth", 0)))
        if s["kind"] == "retrieval":
            if "found" in funnel:
                bars.append((f"{s['name']} (top {depth}): doc", float(funnel["found"]), False))
            if "answer_found" in funnel:
                bars.append((f"{s['name']} (top {depth}): answer", float(funnel["answer_found"]), True))
        else:
            for key, value in funnel.items():
                bars.append((f"{s['name']}: {key}", float(value), True))
    return bars


def deltas_png(section: DatasetSection) -> bytes | None:
    """Per-query difference of the primary metric against the baseline, sorted (one line each)."""
    base = section.entry(section.baseline)
    others = [e for e in section.pipelines if e.name != section.baseline]
    metric = section.primary
    if not others or not metric:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.5, 2.9))
    for i, entry in enumerate(section.pipelines):
        if entry.name == section.baseline:
            continue
        qids = [
            q for q in entry.per_query if metric in entry.per_query[q] and metric in base.per_query.get(q, {})
        ]
        deltas = sorted((entry.per_query[q][metric] - base.per_query[q][metric] for q in qids), reverse=True)
        if deltas:
            xs = [j / max(len(deltas) - 1, 1) for j in range(len(deltas))]
            ax.plot(
                xs,
                deltas,
                color=PALETTE[i % len(PALETTE)],
                linewidth=1.6,
                label=f"{entry.name} − {base.name}",
            )
            ax.fill_between(xs, deltas, 0, color=PALETTE[i % len(PALETTE)], alpha=0.12)
    ax.axhline(0, color="#444", linewidth=0.8)
    ax.set_xlabel("queries, sorted by difference (fraction)")
    ax.set_ylabel(f"Δ {metric}")
    ax.set_title(f"Per-query difference in {metric} against {base.name}", fontsize=10, loc="left")
    ax.legend(frameon=False, loc="upper right")
    return _png(fig)
