"""Resources that take N describes to become ready (or gone), as real AWS resources take minutes.

A service extension calls `start(kind)` when a resource is created (or deleted) and keeps the
returned Countdown on the model; every describe of the resource calls `countdown.tick()`, which
says whether it is still pending. Kinds are regionctl kind names (vpc, eks_cluster, ...).
"""

import threading

_lock = threading.Lock()
_describes: dict[str, int] = {}


def configure(kind: str, describes: int) -> None:
    with _lock:
        if describes <= 0:
            _describes.pop(kind, None)
        else:
            _describes[kind] = describes


def configured() -> dict[str, int]:
    with _lock:
        return dict(_describes)


def reset() -> None:
    with _lock:
        _describes.clear()


class Countdown:
    """Pending for a number of describes, then done."""

    def __init__(self, describes: int):
        self._remaining = describes
        self._lock = threading.Lock()

    def tick(self) -> bool:
        """Counts one describe; True while the resource is still pending."""
        with self._lock:
            if self._remaining <= 0:
                return False
            self._remaining -= 1
            return True

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._remaining > 0


def start(kind: str) -> Countdown:
    """A countdown for a resource of `kind` created (or deleted) now."""
    with _lock:
        return Countdown(_describes.get(kind, 0))
