"""Training odqa's own models from all-MiniLM-L6-v2 (no pretrained reader/re-ranker is needed).

* :mod:`odqa.train.reader` -- extractive reader (SQuAD): ``ReaderTrainConfig``, ``RECIPES``,
  ``config_from_recipe``, ``train_reader``;
* :mod:`odqa.train.reranker` -- cross-encoder re-ranker: ``RerankerTrainConfig``, ``RECIPES``,
  ``config_from_recipe``, ``train_reranker``; example sources in :mod:`odqa.train.data`;
* :mod:`odqa.train.common` -- the shared loop (batching, AMP, checkpoints, resume, loss log);
* :mod:`odqa.train.card` -- ``README.md`` and ``odqa_manifest.json`` for each trained model.

Nothing is imported here, so ``import odqa.train`` stays cheap (torch loads with the trainers).
"""
