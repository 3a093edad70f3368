"""Haystack's sentence-transformers document embedder with an int8 ``model_precision`` for CPUs."""

from __future__ import annotations

from haystack import Document, component
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder,
)
from tqdm.auto import tqdm

from odqa.components.embedders.runtime_switch import RuntimeSwitch


@component
class OdqaDocumentEmbedder(RuntimeSwitch, SentenceTransformersDocumentEmbedder):
    """``SentenceTransformersDocumentEmbedder`` (every upstream parameter, same vectors) that can run
    its encoder on ONNX Runtime (``backend="onnx"``, the same fp32 vectors) or in int8 on a CPU.

    ``model_precision="int8"`` quantizes the encoder's linear layers after loading
    (:func:`odqa.utils.quantization.quantize_int8`: per-channel int8 weights, activations quantized
    per batch; ``int8_layers`` ``all`` or ``attention``;
    :class:`~odqa.components.embedders.runtime_switch.RuntimeSwitch`).
    Upstream's own ``precision`` is another thing: the precision of the *output* vectors. On a GPU
    the model stays as loaded. The fp32 model Haystack shares between embedders is not touched.
    Measured and off by default (README, "Quantized embedder").

    ``progress_bar=True`` shows one ``embedding`` bar counting passages (odqa's, not
    sentence-transformers' ``Batches`` bar per call): the documents are encoded in slices of
    ``batch_size * 8`` with upstream's bar off, each slice exactly as upstream encodes it.

    Usage::

        embedder = OdqaDocumentEmbedder(model="models/embedder", backend="onnx")
        embedder.warm_up()
        embedder.run(documents=[Document(content="Warsaw is the capital of Poland.")])["documents"]
    """

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        """Embed ``documents`` (upstream's ``run``), with odqa's progress bar when ``progress_bar``.

        :returns: ``documents``: the documents with their ``embedding`` set.
        """
        upstream = SentenceTransformersDocumentEmbedder.run  # @component breaks zero-argument super()
        if not self.progress_bar or not isinstance(documents, list) or len(documents) <= self.batch_size:
            return upstream(self, documents=documents)
        step = self.batch_size * 8
        out: list[Document] = []
        self.progress_bar = False
        try:
            with tqdm(total=len(documents), desc="embedding", unit="passage") as bar:
                for i in range(0, len(documents), step):
                    out.extend(upstream(self, documents=documents[i : i + step])["documents"])
                    bar.update(min(step, len(documents) - i))
        finally:
            self.progress_bar = True
        return {"documents": out}
