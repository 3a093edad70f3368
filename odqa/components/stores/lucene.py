"""Lucene's BM25 arithmetic, reproduced exactly (Lucene >= 8, as used by Elasticsearch >= 7).

For a query term ``t`` with document frequency ``n`` in a collection of ``N`` documents, and a
document of (quantised) length ``dl`` containing ``t`` ``tf`` times:

.. math::

   \\mathrm{idf}(t) = \\ln\\left(1 + \\frac{N - n + 0.5}{n + 0.5}\\right), \\qquad
   \\mathrm{score}(t, d) = \\mathrm{idf}(t) \\cdot
       \\frac{tf}{tf + k_1 \\left(1 - b + b \\cdot dl / \\mathrm{avgdl}\\right)}

``avgdl`` is the exact mean token count (sum of lengths / number of documents). Lucene stores
``dl`` in one byte (``SmallFloat.intToByte4``): lengths below 24 are exact, longer ones keep 4
significant bits. The ``(k1 + 1)`` numerator factor of the textbook formula was dropped in Lucene 8
(LUCENE-8563); it scales every score by the same constant and does not change rankings.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def _long_to_int4(i: int) -> int:
    if i < 0:
        raise ValueError("only non-negative values are supported")
    num_bits = i.bit_length()
    if num_bits < 4:
        return i
    shift = num_bits - 4
    encoded = (i >> shift) & 0x07
    return encoded | ((shift + 1) << 3)


def _int4_to_long(i: int) -> int:
    bits = i & 0x07
    shift = (i >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


_MAX_INT4 = _long_to_int4(2**31 - 1)
_NUM_FREE_VALUES = 255 - _MAX_INT4  # 24


def int_to_byte4(i: int) -> int:
    """Lucene ``SmallFloat.intToByte4``: encode a length into one unsigned byte."""
    if i < _NUM_FREE_VALUES:
        return i
    return _NUM_FREE_VALUES + _long_to_int4(i - _NUM_FREE_VALUES)


def byte4_to_int(b: int) -> int:
    """Lucene ``SmallFloat.byte4ToInt``: decode one byte back to a (quantised) length."""
    if b < _NUM_FREE_VALUES:
        return b
    return _NUM_FREE_VALUES + _int4_to_long(b - _NUM_FREE_VALUES)


#: decoded length for every byte value, as Lucene's ``BM25Similarity.LENGTH_TABLE``.
LENGTH_TABLE = np.array([byte4_to_int(i) for i in range(256)], dtype=np.float64)


def quantize_lengths(lengths: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Lengths as Lucene sees them after norm encoding."""
    arr = np.asarray(lengths, dtype=np.int64)
    return np.array([LENGTH_TABLE[int_to_byte4(int(x))] for x in arr], dtype=np.float64)


def idf(doc_freq: npt.ArrayLike, n_docs: int) -> npt.NDArray[np.float64]:
    """Lucene BM25 idf: ``ln(1 + (N - n + 0.5) / (n + 0.5))``."""
    n = np.asarray(doc_freq, dtype=np.float64)
    return np.log1p((n_docs - n + 0.5) / (n + 0.5))


def term_score(
    tf: npt.ArrayLike, dl: npt.ArrayLike, avgdl: float, k1: float, b: float
) -> npt.NDArray[np.float64]:
    """The tf part: ``tf / (tf + k1 * (1 - b + b * dl / avgdl))``."""
    tf_arr = np.asarray(tf, dtype=np.float64)
    return tf_arr / (tf_arr + k1 * (1.0 - b + b * np.asarray(dl, dtype=np.float64) / avgdl))
