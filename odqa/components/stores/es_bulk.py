"""Bulk writes in chunks, with retries and exponential backoff, a progress bar, and a precise
failure report.

* Every action carries our passage id as ``_id``: writing the same passages again replaces them
  (``index``) or skips them (``create`` + conflict), so a failed run is resumed by running it
  again -- there are never duplicates.
* Transient failures are retried with backoff (``initial_backoff * 2**attempt``, capped): the
  server unreachable or timing out, HTTP 429/502/503/504 for the whole request, and per-document
  429 (``es_rejected_execution_exception``). A server that comes back within the retry budget
  costs a pause, not a failure.
* Permanent per-document failures (mapping conflicts, bad values) do not stop the run: the other
  documents are written, then :class:`EsBulkError` lists every failed id with its reason.
* When the server stays away, :class:`EsBulkError` says how many documents were written and lists
  the ones that were not (``.unwritten``).

Usage::

    result = bulk_write(client, "odqa", actions, chunk_size=500)   # raises EsBulkError
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch
from haystack import logging
from tqdm import tqdm

from odqa.components.stores.es_config import EsError

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class BulkAction:
    """One document write: ``op`` is ``index`` (replace) or ``create`` (fail if it exists)."""

    op: str
    id: str
    source: dict[str, Any]


@dataclass(frozen=True)
class FailedDocument:
    id: str
    status: int
    error: str


@dataclass
class BulkResult:
    written: int = 0
    conflicts: list[str] = field(default_factory=list)  # ``create`` on an existing id
    failed: list[FailedDocument] = field(default_factory=list)


class EsBulkError(EsError):
    """Some documents were not written. ``failed`` lists rejected documents (with reasons),
    ``unwritten`` the ids never acknowledged because the server was unreachable."""

    def __init__(
        self,
        message: str,
        *,
        written: int,
        failed: list[FailedDocument] | None = None,
        unwritten: list[str] | None = None,
    ) -> None:
        self.written = written
        self.failed = list(failed or [])
        self.unwritten = list(unwritten or [])
        super().__init__(message)

    @property
    def failed_ids(self) -> list[str]:
        return [f.id for f in self.failed] + self.unwritten


@dataclass(frozen=True)
class RetryPolicy:
    """Up to ``max_retries`` retries per chunk, each after ``initial_backoff * 2**n`` s (capped)."""

    max_retries: int = 5
    initial_backoff: float = 1.0
    max_backoff: float = 30.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.initial_backoff * 2**attempt))


def chunked(actions: Iterable[BulkAction], size: int) -> Iterator[list[BulkAction]]:
    chunk: list[BulkAction] = []
    for a in actions:
        chunk.append(a)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _operations(chunk: list[BulkAction]) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for a in chunk:
        ops.append({a.op: {"_id": a.id}})
        ops.append(a.source)
    return ops


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            text += f" (caused by {cause.get('type')}: {cause['reason']})"
        return text
    return str(error)


def _send_chunk(
    client: Elasticsearch,
    index: str,
    chunk: list[BulkAction],
    policy: RetryPolicy,
    result: BulkResult,
    sleep: Callable[[float], None],
) -> tuple[list[BulkAction], str]:
    """Write one chunk, retrying transient failures; returns the actions never acknowledged and
    the last transient error."""
    pending = chunk
    last_error = ""
    for attempt in range(policy.max_retries + 1):
        if attempt:
            wait = policy.delay(attempt - 1)
            logger.warning(
                "bulk write to {index}: retry {n}/{m} of {k} documents in {s:.1f}s ({err})",
                index=index,
                n=attempt,
                m=policy.max_retries,
                k=len(pending),
                s=wait,
                err=last_error,
            )
            sleep(wait)
        try:
            resp = client.options(max_retries=0).bulk(operations=_operations(pending), index=index)
        except (TransportConnectionError, ConnectionTimeout) as e:
            last_error = f"{type(e).__name__}: {e}"
            continue
        except ApiError as e:
            if e.status_code in RETRY_STATUS:
                last_error = f"HTTP {e.status_code}"
                continue
            raise
        retry: list[BulkAction] = []
        by_id = {a.id: a for a in pending}
        for item in resp.body.get("items", []):
            op, info = next(iter(item.items()))
            status = int(info.get("status", 500))
            doc_id = str(info.get("_id"))
            if status < 300:
                result.written += 1
            elif status == 409 and op == "create":
                result.conflicts.append(doc_id)
            elif status in RETRY_STATUS and doc_id in by_id:
                retry.append(by_id[doc_id])
                last_error = f"HTTP {status} for some documents"
            else:
                result.failed.append(FailedDocument(doc_id, status, _reason(info.get("error"))))
        pending = retry
        if not pending:
            return [], ""
    return pending, last_error


def bulk_write(
    client: Elasticsearch,
    index: str,
    actions: Iterable[BulkAction],
    *,
    total: int | None = None,
    chunk_size: int = 500,
    retry: RetryPolicy | None = None,
    progress_bar: bool = False,
    url: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> BulkResult:
    """Write ``actions`` in chunks of ``chunk_size``; no refresh (the caller decides).

    :raises EsBulkError: documents were rejected, or the server stayed unreachable (what was
        acknowledged before stays written; running the same write again resumes it).
    """
    policy = retry or RetryPolicy()
    result = BulkResult()
    where = f"Elasticsearch at {url}, index {index!r}" if url else f"index {index!r}"
    with tqdm(total=total, desc=f"ES {index}", unit="doc", disable=not progress_bar) as bar:
        chunks = chunked(actions, chunk_size)
        for chunk in chunks:
            try:
                pending, last_error = _send_chunk(client, index, chunk, policy, result, sleep)
            except ApiError as e:  # not transient: e.g. credentials refused, index closed
                unwritten = [a.id for a in chunk] + [a.id for c in chunks for a in c]
                raise EsBulkError(
                    f"{where}: bulk request refused (HTTP {e.status_code}: {e.message}); "
                    f"{result.written} documents written, {len(unwritten)} not.",
                    written=result.written,
                    failed=result.failed,
                    unwritten=unwritten,
                ) from e
            bar.update(len(chunk) - len(pending))
            if pending:
                unwritten = [a.id for a in pending] + [a.id for c in chunks for a in c]
                raise EsBulkError(
                    f"{where}: unreachable or overloaded, gave up after {policy.max_retries} retries "
                    f"(last error: {last_error}); {result.written} "
                    f"documents written, {len(unwritten)} not (first: {', '.join(unwritten[:5])}). "
                    "Run the same command again to resume: passages keep their ids, so nothing is "
                    "duplicated.",
                    written=result.written,
                    failed=result.failed,
                    unwritten=unwritten,
                )
    if result.failed:
        shown = "; ".join(f"{f.id}: {f.error}" for f in result.failed[:5])
        raise EsBulkError(
            f"{where}: {len(result.failed)} documents rejected, {result.written} written. "
            f"Failed: {shown}{' ...' if len(result.failed) > 5 else ''}",
            written=result.written,
            failed=result.failed,
        )
    return result
