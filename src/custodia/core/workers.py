"""Processes of their own for the Python of a long bulk job (``report rollup --rebuild``), one
per core. Spawned, not forked, so none shares the parent's database connection; each sets Django
up itself and connects with the same settings. This module imports nothing of Django's models,
so that a new process can load it before ``django.setup()``."""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any


def start() -> None:
    """Each new process: Django, as the parent has it."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custodia.settings")
    django.setup()


def call(target: str, args: tuple[Any, ...]) -> Any:
    """Run ``module:function`` with ``args`` (named rather than pickled, so that the function's
    module is imported after Django is set up)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


def ordered_map(
    pool: ProcessPoolExecutor | None, target: str, calls: Iterable[tuple[Any, ...]], ahead: int
) -> Iterator[Any]:
    """``target`` applied to each argument tuple, results in order; without a pool, here. A
    pool works at most ``ahead`` calls in advance, so results waiting to be used stay few. A
    process that dies, or fails to start, raises BrokenProcessPool instead of hanging."""
    if pool is None:
        yield from (call(target, args) for args in calls)
        return
    pending: deque[Future[Any]] = deque()
    for args in calls:
        pending.append(pool.submit(call, target, args))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def pool(processes: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=processes, mp_context=multiprocessing.get_context("spawn"), initializer=start
    )
