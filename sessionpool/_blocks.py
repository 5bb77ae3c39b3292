"""Where a ``with pool.session(...)`` block reaches: which key the code running now is inside.

A pool keeps the innermost block in a context variable (:class:`BlockVar`), so a block follows
the code that runs inside it: functions it calls, asyncio tasks and ``asyncio.to_thread`` calls
it starts (they copy the context), and nothing else. The rule, written once
(``docs/concepts.md``, "Where a block reaches", explains it to users):

1. **Inside.** Code running in a block's body, and everything that body calls, uses the block's
   key. Nested blocks restore the outer one when they end.
2. **Copied contexts.** A context copied inside a block (an asyncio task, ``asyncio.to_thread``,
   ``contextvars.copy_context().run``, :meth:`BlockVar.run`) carries the block with it, even if
   it runs after the block ended.
3. **Plain generators keep their blocks.** A block entered in a plain generator (or async
   generator) applies only while that generator runs. Python lets a suspended generator's
   context changes leak to whoever resumes or iterates it; here code outside the generator never
   runs on its block's key, and two generators consumed in turn (``zip(rows("prod"),
   rows("dev"))``) each keep their own key. A generator driven as a context manager
   (``@contextmanager``, ``@asynccontextmanager``, and so ``ExitStack``, FastAPI's dependencies
   with ``yield``; pytest's yield fixtures) is the exception: its block is meant for the code
   inside the ``with`` (or the test) and reaches it.
4. **Leaving out of order, or elsewhere.** Leaving a block never raises. A block left in the
   context it was entered in restores the nearest enclosing block that has not ended; a block
   left elsewhere (FastAPI runs a plain-``def`` dependency's code before and after ``yield`` in
   two thread-pool calls, each in a copied context) is marked ended, and no code of the context
   that entered it runs on its key afterwards.

Anything the rule cannot reach (an executor thread started by ``loop.run_in_executor``, a plain
``threading.Thread``: neither copies the context) runs on the pool's defaults, or, with
``SessionPool(strict=True)``, raises :class:`~sessionpool.KeyRequiredError` at the call.

Cost: a block entered in an ordinary function (or coroutine) and not yet ended is answered from
the variable with two attribute reads. Only a block entered in a plain generator, or read after
it ended, asks which thread and task is reading, and walks the stack for the generator's frame.
"""

from __future__ import annotations

import contextvars
import inspect
import os
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

__all__ = ["Block", "BlockKey", "BlockVar", "applicable"]

T = TypeVar("T")

_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR
# Frames that drive a generator as a context manager: its block is for the code inside the
# `with` (or the test), as a context variable's value is (rule 3). By file name and function.
_CONTEXT_DRIVERS = (
    (os.sep + "contextlib.py", ("__enter__", "__aenter__")),
    (os.path.join("_pytest", "fixtures.py"), None),
    (os.path.join("pytest_asyncio", "plugin.py"), None),
)
_get_ident = threading.get_ident


class BlockKey:
    """A block's key as the owner tables see it: interned per owner and key
    (:meth:`~sessionpool._registry.OwnerSlot.block_key`), so the fast table keys by identity
    (hashing a ``SessionKey``, a dataclass, would cost more than the rest of the hot path).
    Dropped with the key's session, so eviction forgets it."""

    __slots__ = ("session_key",)

    def __init__(self, session_key: Any) -> None:
        self.session_key = session_key


class Block:
    """One ``with pool.session(...)`` block: the value of its pool's block variable.

    ``fragile`` is False for the common case (entered in an ordinary function and not ended):
    then the block applies wherever the variable holds it. Otherwise :func:`applicable` decides.
    While any Block of a pool is alive its id is in the pool's ``live`` set, and the pool's hot
    path (which ignores blocks) stands aside. ``set.add``/``discard`` are atomic, and ``__del__``
    may run in any thread.
    """

    __slots__ = ("block_key", "ended", "fragile", "frame", "live", "previous", "task", "thread")

    def __init__(
        self,
        block_key: BlockKey,
        previous: Block | None,
        live: set[int],
        frame: FrameType | None = None,
    ) -> None:
        self.block_key = block_key
        self.previous = previous  # the variable's value when this block was entered
        self.frame = frame  # the plain generator this block belongs to (rule 3), if any
        self.thread = _get_ident()
        self.task = _task_now()
        self.ended = False
        self.fragile = frame is not None
        self.live = live
        live.add(id(self))

    def __del__(self) -> None:
        # The id leaves the set before the object's memory can be reused by another Block.
        self.live.discard(id(self))

    def _owned_here(self) -> bool:
        """True if the code reading runs in the thread and task that entered this block (the
        very context the block was set in, or one copied there); else the reader runs in a
        context copied from inside the block, elsewhere."""
        return self.thread == _get_ident() and self.task is _task_now()


def applicable(block: Block | None) -> Block | None:
    """The innermost block on ``block``'s chain that applies to the code running now."""
    while block is not None:
        if not block.fragile or not block._owned_here():
            return block  # rule 1, or rule 2 (a copy made inside it, read elsewhere)
        if not block.ended and block.frame is not None and _running(block.frame):
            return block  # rule 3: its generator is running, and this code is inside it
        block = block.previous
    return None


def _running(frame: FrameType) -> bool:
    """Whether ``frame`` is on the current thread's stack (a suspended generator's is not)."""
    here: FrameType | None = sys._getframe()
    while here is not None:
        if here is frame:
            return True
        here = here.f_back
    return False


def _task_now() -> object:
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    loop = asyncio._get_running_loop()
    return None if loop is None else asyncio.current_task(loop)


def _plain_generator(frame: FrameType) -> FrameType | None:
    """``frame`` if it is a plain generator's (rule 3), else None."""
    if not frame.f_code.co_flags & _GENERATOR_FLAGS:
        return None
    driver = frame.f_back
    if driver is not None:
        code = driver.f_code
        for suffix, names in _CONTEXT_DRIVERS:
            if code.co_filename.endswith(suffix) and (names is None or code.co_name in names):
                return None
    return frame


class BlockVar:
    """A pool's block variable: its innermost block in the running context, and the live set.

    Parameters:
        name: the context variable's name (for debugging).
    """

    __slots__ = ("get", "live", "var")

    def __init__(self, name: str) -> None:
        self.var: contextvars.ContextVar[Block | None] = contextvars.ContextVar(name, default=None)
        self.get = self.var.get  # the raw value, bound once: the pool's warm paths call it
        # Ids of this pool's live Blocks: while empty, no context anywhere holds a block.
        self.live: set[int] = set()

    def current(self) -> Block | None:
        """The block the code running now is inside, or None."""
        block = self.var.get()
        if block is None or not block.fragile:
            return block
        return applicable(block)

    def key(self) -> BlockKey | None:
        """The current block's key, or None outside any block."""
        block = self.current()
        return None if block is None else block.block_key

    def enter(self, block_key: BlockKey, caller: FrameType) -> Block:
        """Make a block of ``block_key`` the current one; ``caller`` is the ``with``'s frame."""
        block = Block(block_key, self.var.get(), self.live, _plain_generator(caller))
        self.var.set(block)
        return block

    def leave(self, block: Block) -> None:
        """End ``block`` (rule 4): never raises."""
        block.ended = True
        block.fragile = True
        if self.var.get() is not block:
            return  # left out of order, or in another context: its chain skips it from now on
        previous = block.previous
        while previous is not None and previous.ended and previous._owned_here():
            previous = previous.previous
        self.var.set(previous)

    def run(self, block_key: BlockKey | None, fn: Callable[..., T], args: Any, kwargs: Any) -> T:
        """Call ``fn(*args, **kwargs)`` inside a block of ``block_key`` (None: outside any
        block), in a context of its own, so nothing it sets stays behind in the calling thread."""
        return contextvars.copy_context().run(self._run, block_key, fn, args, kwargs)

    def _run(self, block_key: BlockKey | None, fn: Callable[..., T], args: Any, kwargs: Any) -> T:
        if block_key is None:
            self.var.set(None)
            return fn(*args, **kwargs)
        # A block of its own, in this call's own context: it applies to everything the call runs.
        self.var.set(Block(block_key, None, self.live))
        return fn(*args, **kwargs)
