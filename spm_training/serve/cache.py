"""Rendered pages, kept per store revision.

A key names the page (``("team", "Closers")``) and the revisions it was computed at: the store's
:meth:`~spm_training.store.Store.data_revision` (every import, sync, roster change or removal
moves it, so those make a page stale) and, for the pages that show reading and self-check
progress, :meth:`~spm_training.store.Store.activity_revision`. Nothing else makes a page stale.
An entry of an older revision is never served again and falls out of the bounded LRU in time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

#: Pages kept at most (a page of a 2,000-rep team is a few megabytes of HTML).
DEFAULT_SIZE = 256


class PageCache(Generic[T]):
    """A thread-safe LRU of computed pages. ``renders`` counts the pages computed, ``hits`` those
    served from the cache."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("a page cache holds at least one page")
        self.size = size
        self.renders = 0
        self.hits = 0
        self._pages: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        # one lock per key being computed, so that twenty clients asking for the same cold page
        # compute it once, while other pages are computed beside it
        self._computing: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The page at ``key``, computed by ``compute()`` when it is not kept yet."""
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                self.hits += 1
                return self._pages[key]
            lock = self._computing.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._pages:
                    self._pages.move_to_end(key)
                    self.hits += 1
                    return self._pages[key]
            try:
                page = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                self.renders += 1
                self._pages[key] = page
                self._pages.move_to_end(key)
                while len(self._pages) > self.size:
                    self._pages.popitem(last=False)
                self._computing.pop(key, None)
            return page

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
