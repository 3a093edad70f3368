"""Render a comparison report of ``odqa eval`` results as one self-contained HTML page or Markdown.

The HTML page has no external asset: styles are inline and figures are base64 PNG data URIs
(matplotlib, Agg backend).  The Markdown version writes its figures as PNG files in a folder
beside it (``<name>_files/``).

Usage::

    from odqa.eval.report import write_report
    write_report(["scifact.bm25.json", "scifact.hybrid.json"], "report.html")
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from odqa.eval.report_data import DatasetSection, build_sections, fmt, fmt_p, load_results
from odqa.eval.report_plots import PALETTE, curves_png, data_uri, deltas_png, funnel_png
from odqa.eval.significance import DEFAULT_PERMUTATIONS, MetricComparison

__all__ = ["render_html", "render_markdown", "write_report"]

ALPHA = 0.05
_CSS = """
:root { --fg:#1f2933; --muted:#66788a; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff; --up:#0a7d43;
        --down:#c0392b; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--fg); background: var(--bg); }
header { background: linear-gradient(120deg, #0b3954, #0072B2); color: #fff; padding: 26px 40px 22px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 650; letter-spacing: .2px; }
header p { margin: 2px 0; opacity: .88; }
main { max-width: 1180px; margin: 0 auto; padding: 22px 28px 60px; }
nav { margin: 0 0 18px; }
nav a { display:inline-block; margin: 0 8px 6px 0; padding: 4px 11px; border-radius: 14px; background: #fff;
        border: 1px solid var(--line); color: var(--accent); text-decoration: none; font-weight: 550; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
               padding: 18px 24px 20px; margin: 0 0 22px; box-shadow: 0 1px 2px rgba(16,24,40,.04); }
h2 { margin: 0 0 4px; font-size: 19px; }
h3 { margin: 22px 0 8px; font-size: 15px; color: #334e68; }
.facts { color: var(--muted); margin: 0 0 10px; }
table { border-collapse: collapse; margin: 6px 0 10px; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: #f0f4f8; font-weight: 600; color: #334e68; position: sticky; top: 0; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; max-width: 520px; }
tr:hover td { background: #fafcff; }
.best { font-weight: 700; }
.up { color: var(--up); font-weight: 700; }
.down { color: var(--down); font-weight: 700; }
.delta-up { color: var(--up); } .delta-down { color: var(--down); }
.base { font-size: 11px; color: var(--muted); font-weight: 500; margin-left: 6px; padding: 1px 6px;
        border: 1px solid var(--line); border-radius: 8px; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:7px; }
img.fig { max-width: 100%; display:block; margin: 4px 0 8px; }
details { margin: 6px 0 8px; } summary { cursor: pointer; color: var(--accent); font-weight: 550; }
.note { color: var(--muted); font-size: 12.5px; }
.skip { color: var(--muted); font-style: italic; }
.scroll { overflow-x: auto; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap: 18px; }
footer { color: var(--muted); font-size: 12.5px; max-width: 1180px; margin: 0 auto; padding: 0 28px 40px; }
code { background: #eef2f7; padding: 1px 5px; border-radius: 4px; font-size: 12.5px; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _mark(c: MetricComparison | None, alpha: float = ALPHA) -> tuple[str, str]:
    """(symbol, css class) for a comparison: ▲ / ▼ when the randomization test rejects at ``alpha``."""
    if c is None or not c.significant(alpha) or c.delta == 0:
        return "", ""
    strong = c.p_randomization < alpha / 5
    symbol = ("▲" if c.delta > 0 else "▼") * (2 if strong else 1)
    return symbol, "up" if c.delta > 0 else "down"


def _tooltip(c: MetricComparison | None) -> str:
    if c is None:
        return "baseline"
    return (
        f"Δ {c.delta:+.4f} vs baseline over {c.n} queries; randomization p={fmt_p(c.p_randomization)}, "
        f"t-test p={fmt_p(c.p_ttest)}; better on {c.wins}, worse on {c.losses}"
    )


def _swatch(i: int) -> str:
    return f'<span class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></span>'


# ------------------------------------------------------------------------------------------ HTML
def _metrics_table(s: DatasetSection) -> str:
    best = {m: max(e.means[m] for e in s.pipelines if m in e.means) for m in s.metrics}
    head = "".join(f"<th>{_e(m)}</th>" for m in s.metrics)
    rows = []
    for i, e in enumerate(s.pipelines):
        base = '<span class="base">baseline</span>' if e.name == s.baseline else ""
        cells = []
        for m in s.metrics:
            if m not in e.means:
                cells.append("<td>–</td>")
                continue
            c = s.comparison(e.name, m)
            if c is not None and c.n == 0:
                c = None  # the baseline has no value for this metric: nothing to compare
            symbol, cls = _mark(c)
            mark = f' <span class="{cls}">{symbol}</span>' if symbol else ""
            bold = ' class="best"' if e.means[m] == best[m] and len(s.pipelines) > 1 else ""
            cells.append(f'<td title="{_e(_tooltip(c))}"><span{bold}>{fmt(e.means[m])}</span>{mark}</td>')
        rows.append(f"<tr><td>{_swatch(i)}<b>{_e(e.name)}</b>{base}</td>{''.join(cells)}</tr>")
    return f"<div class='scroll'><table><tr><th>pipeline</th>{head}</tr>{''.join(rows)}</table></div>"


def _significance_table(s: DatasetSection) -> str:
    if not s.comparisons:
        return ""
    rows = []
    for name, comps in s.comparisons.items():
        for c in comps:
            if c.n == 0:
                continue
            cls = "delta-up" if c.delta > 0 else "delta-down" if c.delta < 0 else ""
            symbol, mcls = _mark(c)
            rows.append(
                f"<tr><td>{_e(name)} vs {_e(s.baseline)}</td><td>{_e(c.metric)}</td>"
                f"<td>{fmt(c.mean_b)}</td><td>{fmt(c.mean_a)}</td><td class='{cls}'>{c.delta:+.4f}</td>"
                f"<td>{fmt_p(c.p_randomization)} <span class='{mcls}'>{symbol}</span></td>"
                f"<td>{fmt_p(c.p_ttest)}</td><td>{c.wins} / {c.n - c.wins - c.losses} / {c.losses}</td></tr>"
            )
    return (
        "<details><summary>Significance tests, metric by metric</summary><table><tr><th>comparison</th>"
        "<th>metric</th><th>baseline</th><th>pipeline</th><th>Δ</th><th>p (randomization)</th>"
        "<th>p (paired t)</th><th>better / tied / worse</th></tr>" + "".join(rows) + "</table></details>"
    )


def _funnel_table(s: DatasetSection) -> str:
    rows = []
    for i, e in enumerate(s.pipelines):
        for j, st in enumerate(e.stages):
            f = st.get("funnel", {})
            lat = e.latency_ms.get(st["name"], {}).get("p50")
            reader = ", ".join(f"{k} {v:.3f}" for k, v in f.items()) if st["kind"] == "reader" else None
            name = f"{_swatch(i)}<b>{_e(e.name)}</b>" if j == 0 else ""
            rows.append(
                (
                    name,
                    _e(st["name"]),
                    f"{st.get('depth', 0):.1f}",
                    fmt(f.get("found"), 3) if st["kind"] == "retrieval" else "–",
                    fmt(f.get("answer_found"), 3) if st["kind"] == "retrieval" else "–",
                    _e(reader) if reader else "–",
                    "–" if lat is None else f"{lat:.1f}",
                )
            )
    head = ["pipeline", "stage", "items / query", "gold doc found", "answer in passages", "reader", "p50 ms"]
    keep = [c for c in range(len(head)) if c < 3 or c == 6 or any(r[c] != "–" for r in rows)]
    left = " style='text-align:left'"
    th = "".join(f"<th{left if c == 1 else ''}>{head[c]}</th>" for c in keep)
    body = "".join(
        "<tr>" + "".join(f"<td{left if c == 1 else ''}>{r[c]}</td>" for c in keep) + "</tr>" for r in rows
    )
    return f"<table><tr>{th}</tr>{body}</table>"


def _changed_table(s: DatasetSection, name: str) -> str:
    rows = s.changed.get(name, [])
    if not rows:
        return f"<p class='skip'>No query changed in {_e(s.primary)}.</p>"
    with_answers = any(r.baseline_answer is not None or r.other_answer is not None for r in rows)
    extra_head = "<th>baseline answer</th><th>answer</th>" if with_answers else ""
    body = []
    for r in rows:
        cls = "delta-up" if r.delta > 0 else "delta-down"
        extra = ""
        if with_answers:
            extra = (
                f"<td class='text'>{_e(r.baseline_answer or '–')}</td>"
                f"<td class='text'>{_e(r.other_answer or '–')}</td>"
            )
        body.append(
            f"<tr><td>{_e(r.qid)}</td><td class='text'>{_e(r.text)}</td><td>{fmt(r.baseline, 3)}</td>"
            f"<td>{fmt(r.other, 3)}</td><td class='{cls}'>{r.delta:+.3f}</td>{extra}</tr>"
        )
    return (
        f"<table><tr><th>query</th><th style='text-align:left'>text</th><th>{_e(s.baseline)}</th>"
        f"<th>{_e(name)}</th><th>Δ</th>{extra_head}</tr>{''.join(body)}</table>"
    )


def _ragas_table(s: DatasetSection) -> str:
    entries = [e for e in s.pipelines if e.ragas]
    if not entries:
        return ""
    names: list[str] = []
    skipped: dict[str, str] = {}
    for e in entries:
        assert e.ragas is not None
        names += [n for n, v in e.ragas.get("means", {}).items() if v is not None and n not in names]
        for n, reason in e.ragas.get("skipped", {}).items():
            skipped.setdefault(n, reason)
    skipped = {n: r for n, r in skipped.items() if n not in names}
    head = "".join(f"<th>{_e(n.removeprefix('ragas_'))}</th>" for n in names)
    rows = []
    for e in entries:
        assert e.ragas is not None
        means = e.ragas.get("means", {})
        cells = "".join(f"<td>{fmt(means.get(n))}</td>" for n in names)
        rows.append(f"<tr><td><b>{_e(e.name)}</b></td>{cells}</tr>")
    by_reason: dict[str, list[str]] = {}
    for n, reason in skipped.items():
        by_reason.setdefault(reason, []).append(n)
    notes = "".join(
        f"<li>{', '.join(f'<code>{_e(n)}</code>' for n in ns)}: {_e(reason)}</li>"
        for reason, ns in by_reason.items()
    )
    version = next((e.ragas.get("version") for e in entries if e.ragas), "")
    table = f"<table><tr><th>pipeline</th>{head}</tr>{''.join(rows)}</table>" if names else ""
    return f"<h3>ragas metrics (ragas {_e(version)}, top 10 contexts of the final stage)</h3>{table}" + (
        f"<p class='note'>Not computed:</p><ul class='note'>{notes}</ul>" if notes else ""
    )


def _overview(sections: list[DatasetSection]) -> str:
    names: list[str] = []
    for s in sections:
        for e in s.pipelines:
            if e.name not in names:
                names.append(e.name)
    rows = []
    for s in sections:
        cells = []
        present = {e.name: e for e in s.pipelines}
        best = max((e.means.get(s.primary, float("-inf")) for e in s.pipelines), default=None)
        for n in names:
            entry = present.get(n)
            if entry is None or s.primary not in entry.means:
                cells.append("<td>–</td>")
                continue
            e = entry
            symbol, cls = _mark(s.comparison(n, s.primary))
            bold = ' class="best"' if e.means[s.primary] == best and len(s.pipelines) > 1 else ""
            mark = f' <span class="{cls}">{symbol}</span>' if symbol else ""
            cells.append(
                f"<td title='{_e(_tooltip(s.comparison(n, s.primary)))}'><span{bold}>"
                f"{fmt(e.means[s.primary])}</span>{mark}</td>"
            )
        anchor = _anchor(s)
        rows.append(
            f"<tr><td><a href='#{anchor}'>{_e(s.title)}</a></td><td>{_e(s.primary)}</td>"
            f"<td>{_e(s.baseline)}</td>{''.join(cells)}</tr>"
        )
    head = "".join(f"<th>{_e(n)}</th>" for n in names)
    return (
        "<section class='card'><h2>Overview</h2><p class='facts'>Primary metric of each dataset "
        "(final retrieval stage, or reader F1 when every pipeline has a reader); marks compare with the "
        "dataset's baseline.</p>"
        f"<table><tr><th>dataset</th><th>metric</th><th>baseline</th>{head}</tr>{''.join(rows)}</table></section>"
    )


def _anchor(s: DatasetSection) -> str:
    return "ds-" + "".join(c if c.isalnum() else "-" for c in s.title.lower())


def _section_html(s: DatasetSection) -> str:
    ds = s.dataset
    facts = (
        f"{_e(ds.get('kind', ''))} · {ds.get('queries', 0)} queries evaluated"
        f"{' of ' + str(ds['judged_queries']) if ds.get('judged_queries') else ''} · "
        f"{ds.get('judgements', 0)} judgements · baseline <b>{_e(s.baseline)}</b> · "
        f"metrics of each pipeline's final retrieval stage"
    )
    parts = [f"<section class='card' id='{_anchor(s)}'><h2>{_e(s.title)}</h2><p class='facts'>{facts}</p>"]
    parts.append(_metrics_table(s))
    parts.append(_significance_table(s))
    curves = curves_png(s)
    if curves:
        parts.append("<h3>Precision and recall at k</h3>")
        parts.append(f"<img class='fig' alt='P@k and R@k curves' src='{data_uri(curves)}'>")
    parts.append("<h3>Funnel: where the gold is lost</h3>")
    funnel = funnel_png(s)
    if funnel:
        parts.append(f"<img class='fig' alt='per-stage funnel' src='{data_uri(funnel)}'>")
    parts.append(_funnel_table(s))
    deltas = deltas_png(s)
    if deltas:
        parts.append(f"<h3>Per-query differences in {_e(s.primary)}</h3>")
        parts.append(f"<img class='fig' alt='per-query differences' src='{data_uri(deltas)}'>")
    for name in s.changed:
        parts.append(f"<h3>Queries that changed most: {_e(name)} vs {_e(s.baseline)} ({_e(s.primary)})</h3>")
        parts.append(_changed_table(s, name))
    parts.append(_ragas_table(s))
    parts.append("</section>")
    return "".join(parts)


def render_html(
    sections: list[DatasetSection], *, sources: Sequence[str] = (), n_permutations: int = DEFAULT_PERMUTATIONS
) -> str:
    """The whole report as one HTML page (no external assets)."""
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f"<a href='#{_anchor(s)}'>{_e(s.title)}</a>" for s in sections)
    n_pipelines = len({e.name for s in sections for e in s.pipelines})
    files = "".join(f"<li><code>{_e(p)}</code></li>" for p in sources)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>odqa evaluation report</title><style>{_CSS}</style></head><body>"
        f"<header><h1>odqa evaluation report</h1><p>{len(sections)} dataset(s) · {n_pipelines} pipeline(s) · "
        f"generated {created}</p></header><main><nav>{nav}</nav>"
        + _overview(sections)
        + "".join(_section_html(s) for s in sections)
        + "</main><footer><p><b>How to read it.</b> ▲ / ▼: better / worse than the baseline, paired "
        f"randomization test (two-sided, {n_permutations:,} random sign flips, seed 0, exact when the number "
        f"of queries is small) p &lt; {ALPHA}; ▲▲ / ▼▼: p &lt; {ALPHA / 5:g}. "
        "Hover a value for the difference, "
        "both p-values (randomization and paired t-test) and the per-query wins and losses. "
        "No correction for multiple comparisons is applied. Bold: best value of the column. "
        "Retrieval metrics follow trec_eval conventions on document-level runs; "
        "EM/F1 follow the SQuAD v1.1 script; answer recall AR@k is the share of questions with a gold "
        "answer string in the top-k passages.</p>"
        f"<details><summary>Results files</summary><ul>{files}</ul></details></footer></body></html>"
    )


# ------------------------------------------------------------------------------------- Markdown
def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(sections: list[DatasetSection], figures_dir: Path, *, link_base: str = "") -> str:
    """The report as Markdown; figures are written as PNG files into ``figures_dir``.

    :param link_base: the path of ``figures_dir`` relative to the Markdown file.
    """
    figures_dir.mkdir(parents=True, exist_ok=True)
    out = ["# odqa evaluation report", ""]
    out.append(
        f"▲/▼: better/worse than the baseline (paired randomization test, two-sided, p < {ALPHA}; "
        f"doubled for p < {ALPHA / 5:g}); p-values of the paired t-test are in the significance tables."
    )
    for s in sections:
        out += [
            "",
            f"## {s.title}",
            "",
            f"Baseline: **{s.baseline}**; {s.dataset.get('queries', 0)} queries.",
            "",
        ]
        rows = []
        for e in s.pipelines:
            cells = [e.name + (" (baseline)" if e.name == s.baseline else "")]
            for m in s.metrics:
                symbol, _ = _mark(s.comparison(e.name, m))
                cells.append(f"{fmt(e.means.get(m))}{' ' + symbol if symbol else ''}")
            rows.append(cells)
        out.append(_md_table(["pipeline", *s.metrics], rows))
        if s.comparisons:
            sig_rows = [
                [
                    f"{n} vs {s.baseline}",
                    c.metric,
                    f"{c.delta:+.4f}",
                    fmt_p(c.p_randomization),
                    fmt_p(c.p_ttest),
                ]
                for n, comps in s.comparisons.items()
                for c in comps
                if c.n
            ]
            out += [
                "",
                _md_table(["comparison", "metric", "Δ", "p (randomization)", "p (paired t)"], sig_rows),
            ]
        slug = _anchor(s)
        for kind, png in (("curves", curves_png(s)), ("funnel", funnel_png(s)), ("deltas", deltas_png(s))):
            if png:
                path = figures_dir / f"{slug}-{kind}.png"
                path.write_bytes(png)
                out += ["", f"![{kind}]({link_base}{path.name})"]
        funnel_rows = []
        for e in s.pipelines:
            for st in e.stages:
                f = st.get("funnel", {})
                funnel_rows.append(
                    [
                        e.name,
                        st["name"],
                        f"{st.get('depth', 0):.1f}",
                        ", ".join(f"{k} {v:.3f}" for k, v in f.items()),
                    ]
                )
        out += [
            "",
            "### Funnel",
            "",
            _md_table(["pipeline", "stage", "items/query", "gold still there"], funnel_rows),
        ]
        for name, changed in s.changed.items():
            out += ["", f"### Queries that changed most: {name} vs {s.baseline} ({s.primary})", ""]
            out.append(
                _md_table(
                    ["query", "text", s.baseline, name, "Δ"],
                    [
                        [r.qid, r.text[:90], fmt(r.baseline, 3), fmt(r.other, 3), f"{r.delta:+.3f}"]
                        for r in changed
                    ],
                )
            )
    return "\n".join(out) + "\n"


def write_report(
    results: Sequence[str | Path],
    out: str | Path,
    *,
    baseline: str | None = None,
    metrics: Sequence[str] | None = None,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    top_changed: int = 10,
) -> Path:
    """Compare the results files and write the report: HTML, or Markdown when ``out`` ends in ``.md``.

    :raises ValueError: a results file is not valid (the message names it).
    """
    from odqa.utils.fs import atomic_write_text

    loaded = load_results(results)
    sections = build_sections(
        loaded, baseline=baseline, metrics=metrics, n_permutations=n_permutations, top_changed=top_changed
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".md":
        figures = path.with_name(f"{path.stem}_files")
        atomic_write_text(path, render_markdown(sections, figures, link_base=f"{figures.name}/"))
    else:
        atomic_write_text(
            path, render_html(sections, sources=[str(p) for p in results], n_permutations=n_permutations)
        )
    path.chmod(0o644)
    return path
