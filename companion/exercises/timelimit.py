"""A time limit for the student's code, the same on Linux, macOS, Windows and Colab.

A check calls the student's function on hidden cases; a decoding loop that ignores ``max_len``
would otherwise never return and freeze the notebook. Each call runs in a worker thread while the
check waits for at most :data:`TIME_LIMIT` seconds. When the time is up, the worker is stopped
with an *asynchronous exception*: CPython's ``PyThreadState_SetAsyncExc`` (through ``ctypes``)
raises :class:`StudentTimeout` inside the worker at its next bytecode, which ends any loop written
in Python. The check then reports "did not return within 5 s".

Why not the alternatives: ``signal.alarm`` (SIGALRM) does not exist on Windows and works only in
the main thread; a subprocess would have to pickle the student's function and the tensors, which
fails for functions defined in a notebook; ``sys.settrace`` slows every line of the student's
code by a large factor.

Limits, stated in the message when they apply:

* a call stuck inside *one* long C operation (a ``time.sleep(100)``, a huge matrix product) cannot
  be interrupted: the exception arrives only when that operation returns. The check reports the
  timeout anyway and leaves the worker running in the background (a daemon thread: it does not keep
  Python from exiting); restarting the kernel ends it;
* code that catches ``BaseException`` (a bare ``except:``) inside its loop swallows the stop; the
  exception is raised again a few times before the check gives up on the worker.

The worker thread runs with the caller's autograd mode, so gradients behave as in the notebook.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch

#: seconds one call of the student's function may take
TIME_LIMIT = 5.0
#: how long a stopped worker may take to unwind before the check gives up waiting for it
_GRACE = 1.0
_POLL = 0.05
_limit = TIME_LIMIT
_local = threading.local()


class StudentTimeout(BaseException):
    """Raised inside the worker thread to stop the student's code (a ``BaseException``, so that an
    ``except Exception`` in the student's loop does not catch it)."""


class TimeLimitExceeded(Exception):
    """The student's function did not return in time; ``stopped`` says whether the worker ended."""

    def __init__(self, seconds: float, stopped: bool):
        super().__init__(f"did not return within {seconds:g} s")
        self.seconds = seconds
        self.stopped = stopped


def current_limit() -> float:
    return _limit


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Use another limit inside the block (``verify`` proves the mechanism with a short one)."""
    global _limit
    before, _limit = _limit, float(seconds)
    try:
        yield
    finally:
        _limit = before


def _raise_in(thread: threading.Thread, exception: type[BaseException]) -> bool:
    """Ask CPython to raise ``exception`` in ``thread`` at its next bytecode."""
    if thread.ident is None:
        return False
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(exception)
    )
    if done > 1:  # more than one thread state changed: undo, as the C API asks
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), None)
        return False
    return done == 1


def _stop(thread: threading.Thread) -> bool:
    """Stop the worker; True when it has ended within the grace period."""
    deadline = time.monotonic() + _GRACE
    while thread.is_alive() and time.monotonic() < deadline:
        _raise_in(thread, StudentTimeout)  # again, in case a bare `except:` swallowed it
        thread.join(0.1)
    return not thread.is_alive()


def call_with_time_limit(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a worker thread, for at most :func:`current_limit` seconds.

    Returns its result or re-raises its exception here; raises :class:`TimeLimitExceeded` when the
    time is up. A call made from inside a worker (the student's function calling another guarded
    function) runs directly, under the outer call's limit.
    """
    if getattr(_local, "inside", False):
        return fn(*args, **kwargs)
    outcome: dict[str, Any] = {}
    grad_enabled = torch.is_grad_enabled()

    def work() -> None:
        _local.inside = True
        try:
            with torch.set_grad_enabled(grad_enabled):
                outcome["value"] = fn(*args, **kwargs)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    seconds = _limit
    worker = threading.Thread(target=work, name="companion-exercise-check", daemon=True)
    worker.start()
    deadline = time.monotonic() + seconds
    try:
        # short joins keep the caller responsive to Ctrl-C / the notebook's stop button everywhere
        while worker.is_alive() and time.monotonic() < deadline:
            worker.join(min(_POLL, max(0.0, deadline - time.monotonic())))
    except KeyboardInterrupt:
        _stop(worker)
        raise
    if worker.is_alive():
        stopped = _stop(worker)
        raise TimeLimitExceeded(seconds, stopped)
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, StudentTimeout):  # stopped just as the time ran out
            raise TimeLimitExceeded(seconds, True)
        raise error
    return outcome.get("value")
