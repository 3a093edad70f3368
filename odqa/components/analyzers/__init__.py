"""Query analysis with NER (issue #5): :mod:`~.query_analyzer` (entities, expected answer type,
keywords, BM25 boosts), :mod:`~.entity_filter`, :mod:`~.explain`; NER backends in :mod:`~.backends`.
The index-time tagger is :mod:`odqa.components.preprocessors.entity_tagger` and the answer-type
prior :mod:`odqa.components.rankers.answer_type_prior`. Nothing is imported here (spaCy and torch
load with the components)."""
