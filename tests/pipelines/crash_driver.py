"""Kill indexing runs with SIGKILL at random points and check what they leave (run by
``test_crash_safety.py`` in a fresh process: ``python crash_driver.py WORK TRIALS SEED``).

The driver imports odqa but never runs a model itself, then forks one child per run (a fresh
child after an idle parent is fork-safe for torch): each child does one write operation on the
index -- a fresh build of another collection, an ``--append``, a delete -- and the driver kills it
after a random delay drawn over that operation's measured duration (half of them near its end,
where the writes and the swap happen). After every kill the index must
open, hold the same passage ids on the BM25 and the FAISS side, and be exactly the old or the new
collection; every fifth trial the operation is rerun and must complete. Prints a JSON summary.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv
from odqa.pipelines.indexing import delete_documents, index_collection


def jsonl(path: Path, docs: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in docs.items()), "utf-8")
    return path


def state(index: Path) -> tuple[frozenset[str], frozenset[str]] | None:
    """(BM25 ids, FAISS ids) of the index, or None when there is none (after recovery)."""
    from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
    from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore

    env = PipelineEnv(index_dir=index, registry=ModelRegistry(index.parent / "models"))
    if not env.has_index:  # recovers an index killed between the swap's renames
        return None
    bm25 = EmbeddedBM25DocumentStore(path=str(index / "bm25"))
    dense = OdqaFAISSDocumentStore(path=str(index / "faiss"))
    return frozenset(d.id for d in bm25.filter_documents()), frozenset(d.id for d in dense.filter_documents())


def in_child(fn: Callable[[], object]) -> int:
    pid = os.fork()
    if pid == 0:  # the child: one write operation, then leave without cleanup handlers
        code = 0
        try:
            import torch

            torch.set_num_threads(1)
            fn()
        except BaseException:
            code = 1
        os._exit(code)
    return pid


def main() -> None:
    work, trials, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    text = "Passage {i} of document {d}: red apples, blue skies and green whales, sentence {j}. "
    old_docs = {
        f"a{d}": "".join(text.format(i=i, d=d, j=j) for i in range(3) for j in range(4)) for d in range(6)
    }
    new_docs = {
        f"b{d}": "".join(text.format(i=i, d=d, j=j) for i in range(2) for j in range(3)) for d in range(5)
    }
    add_docs = {"a1": "A shorter a1.", "c0": "A new document about apples."}
    old_file, new_file, add_file = (
        jsonl(work / "old.jsonl", old_docs),
        jsonl(work / "new.jsonl", new_docs),
        jsonl(work / "add.jsonl", add_docs),
    )
    index, golden = work / "index", work / "golden"
    env = PipelineEnv(index_dir=index, registry=ModelRegistry(work / "models"))
    split = {"splitter": {"unit": "word", "length": 12, "overlap": 0}}
    ops: dict[str, Callable[[], object]] = {
        "fresh": lambda: index_collection(new_file, env=env, overrides=split, progress=False),
        "append": lambda: index_collection(add_file, env=env, overrides=split, fresh=False, progress=False),
        "delete": lambda: delete_documents(["a2", "a3"], env=env),
    }

    def run_to_end(fn: Callable[[], object]) -> float:
        t0 = time.perf_counter()
        _, status = os.waitpid(in_child(fn), 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("an operation failed when not killed")
        return time.perf_counter() - t0

    def reset() -> None:
        shutil.rmtree(index, ignore_errors=True)
        for leftover in work.glob(".index.*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
        shutil.copytree(golden, index)

    run_to_end(lambda: index_collection(old_file, env=env, overrides=split, progress=False))
    shutil.copytree(index, golden)
    old = state(index)
    expected, duration = {}, {}
    for name, fn in ops.items():
        # the shorter of two runs: the first pays for cold caches, and a duration measured too
        # long draws kill delays after the operation has already finished
        reset()
        first = run_to_end(fn)
        reset()
        duration[name] = min(first, run_to_end(fn))
        expected[name] = state(index)
        if expected[name] == old:
            raise SystemExit(f"{name} did not change the index")
    outcomes = {"old": 0, "new": 0}
    failures: list[str] = []
    killed = 0
    for trial in range(trials):
        reset()
        name = rng.choice(list(ops))
        pid = in_child(ops[name])
        # half the kills anywhere in the run, half near its end (where the writes and the swap are)
        low, high = (0.0, 0.9) if trial % 2 else (0.85, 1.1)
        time.sleep(rng.uniform(low * duration[name], high * duration[name]))
        if os.waitpid(pid, os.WNOHANG)[0] == 0:  # still running: kill it
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            killed += 1
        got = state(index)
        if got is None or got[0] != got[1]:
            failures.append(
                f"trial {trial} ({name}): {'no index' if got is None else 'BM25 and FAISS differ'}"
            )
        elif got == old:
            outcomes["old"] += 1
        elif got == expected[name]:
            outcomes["new"] += 1
        else:
            failures.append(f"trial {trial} ({name}): a mixed index")
        if trial % 5 == 4:
            run_to_end(ops[name])
            if state(index) != expected[name]:
                failures.append(f"trial {trial} ({name}): the rerun did not complete the operation")
    print(
        json.dumps(
            {
                "trials": trials,
                "killed_while_running": killed,
                "outcomes": outcomes,
                "failures": failures,
                "durations_s": {k: round(v, 2) for k, v in duration.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
