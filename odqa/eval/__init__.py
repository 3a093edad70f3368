"""Evaluation: retrieval and QA metrics, per-stage pipeline evaluation, significance, reports.

Modules (import what you need; nothing heavy is imported here):

* :mod:`odqa.eval.metrics` -- retrieval metrics with ``trec_eval`` conventions (:func:`evaluate`);
* :mod:`odqa.eval.trec` -- TREC run and qrels files;
* :mod:`odqa.eval.qa` -- SQuAD v1.1 exact match / F1 and answer recall of passages;
* :mod:`odqa.eval.significance` -- paired randomization test and paired t-test between runs;
* :mod:`odqa.eval.datasets` -- BEIR / SQuAD evaluation datasets and their dataset-specific index;
* :mod:`odqa.eval.pipeline_eval` -- run a dataset through a query graph, score every stage;
* :mod:`odqa.eval.ragas_eval` -- ragas metrics (offline ones always, LLM-judged ones on demand);
* :mod:`odqa.eval.report` (with :mod:`~odqa.eval.report_data`, :mod:`~odqa.eval.report_plots`) --
  the HTML / Markdown comparison report.
"""
