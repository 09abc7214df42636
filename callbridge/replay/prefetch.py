"""Run an iterator on a thread of its own, a few items ahead of its consumer.

Replay's frames are decoded and composed while the encoder works on the last
ones: the decoders, OpenCV and x264 all release the GIL, so both cores stay busy.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def prefetched(items: Iterator[T], depth: int = 8) -> Iterator[T]:
    """The same items in the same order; an exception in the producer is raised in the consumer."""
    box: queue.Queue[object] = queue.Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            box.put(exc)

    thread = threading.Thread(target=produce, name="replay-frames", daemon=True)
    thread.start()
    try:
        while (item := box.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=5)
