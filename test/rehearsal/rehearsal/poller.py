"""The thread of a stand-in that reads a stream and invokes a function with
what it read, as Lambda's event source mapping (audit_stream.py) and
Firehose (firehose.py) do: rounds of polling until stopped, whether the last
round left nothing in flight, and drain() that waits for that or raises the
thread's failure."""

from __future__ import annotations

import threading
import time
from typing import Callable


class Poller:
    """`label` names the stand-in in drain's errors; `poll` is the pause
    after an idle round, `busy_pause` the pause after a round that left
    work in flight, `settle` how long drain waits for idle to hold."""

    def __init__(self, label: str, poll: float, busy_pause: float, settle: float):
        self.label, self.poll, self.busy_pause, self.settle = label, poll, busy_pause, settle
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None

    def _rounds(self) -> Callable[[], bool]:
        """Called in the thread: makes its clients and returns one round of
        polling, which answers whether nothing is left in flight."""
        raise NotImplementedError

    def _start_polling(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _stop_polling(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(30)

    def _run(self) -> None:
        try:
            poll_once = self._rounds()
            while not self._stop.is_set():
                idle = poll_once()
                if idle:
                    self._idle.set()
                else:
                    self._idle.clear()
                self._stop.wait(self.poll if idle else self.busy_pause)
        except BaseException as e:  # surfaced by drain()
            self.failure = e
            self._idle.set()

    def drain(self, timeout: float) -> None:
        """Waits until a round found nothing in flight and idle still holds
        `settle` seconds later."""
        deadline = time.monotonic() + timeout
        time.sleep(self.poll * 2)
        while time.monotonic() < deadline:
            if self.failure:
                raise RuntimeError(f"{self.label} failed: {self.failure!r}") from self.failure
            if self._idle.wait(0.2):
                time.sleep(self.settle)
                if self._idle.is_set():
                    return
        raise TimeoutError(f"{self.label} did not drain")
