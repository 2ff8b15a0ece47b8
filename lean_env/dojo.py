"""LeanDojo backend (optional extra `[dojo]`): `lean_dojo.Dojo` behind the `ProofEnv` interface.

LeanDojo runs one Lean process per entered `Dojo` and needs the repository traced first, so a
theorem must name where it lives: a repository URL (or local path) and commit, the `.lean` file,
and the theorem's full name (`Location`). `make_env("dojo", dojo_repo=..., dojo_commit=...,
dojo_file=...)` places every theorem in one file under its declared name; a locations file names
them one by one (`lean_env.factory.load_dojo_locations`).

Lifetime: each `start` enters a fresh Dojo for that attempt (a *session*), and `release(root)`
exits it when the attempt ends (the search calls it through `lean_env.base.release`), so at most
one Lean+Mathlib process per running attempt is alive. `close` exits whatever is left.

Timeouts: LeanDojo bounds each tactic itself (`Dojo(timeout=...)`), but after a
`DojoTacticTimeoutError` the late reply is still in its pipe and would be read as the answer to
the next request, so the Dojo is exited at once and never used again. The session enters a new
Dojo on its next request and replays the tactic path of the state asked for (at most
`max_restarts` times, then every request fails with a reason). Entering has its own limit,
`start_timeout`: LeanDojo has none (a repository missing from its cache is traced first, which
can take hours), so a Dojo that arrives late is exited as soon as it does.

LeanDojo is synchronous: its calls run in daemon threads, one at a time per session, so a hung
call never keeps the program from exiting.

Verification: LeanDojo cannot elaborate free-standing commands, so whole-proof checks go through
`lean_env.verify` on another backend passed as `verifier` (a `ReplPool` over the same Lean project,
or a Kimina Lean Server). Without one every proof is rejected with a reason saying so: a LeanDojo
`ProofFinished` alone never counts.
"""
from __future__ import annotations

import asyncio
import itertools
import math
import threading
from typing import Any, Callable, Sequence

from lean_env.base import ProofEnv
from lean_env.optional import require
from lean_env.rules import forbidden_tactic
from lean_env.types import (
    EnvFailure, LeanError, ProofFinished, ProofGivenUp, StartResult, TacticResult, TacticState, TacticTimeout,
    Theorem, Verdict,
)
from lean_env.verify import declared_name, precheck

Location = tuple[str, str, str, str]   # repo url or path, commit, file path, full theorem name
TacticPath = tuple[str, ...]            # the tactics from a session's initial state to a state


def import_lean_dojo() -> Any:
    """The `lean_dojo` module, or an ImportError that names the extra to install."""
    return require("lean_dojo", extra="dojo", hint="and trace your repository first")


class _Unusable(Exception):
    """The session cannot answer (closed, start-up timed out, restarts spent, replay diverged)."""



async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in a daemon thread. asyncio's executor threads are joined at exit, so one hung
    LeanDojo call (a trace, a stuck `lake`) would keep the program alive forever."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if not future.done():
            future.set_exception(error) if error is not None else future.set_result(value)

    def target() -> None:
        try:
            value, error = fn(*args), None
        except BaseException as e:  # handed to the awaiting task, which decides
            value, error = None, e
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop is gone: nobody is waiting any more
            pass

    threading.Thread(target=target, name="lean-dojo", daemon=True).start()
    return await future


class _Session:
    """One attempt's Dojo. Every method runs in a worker thread and holds `lock` (a Dojo is not
    thread-safe; a caller that stopped waiting leaves its thread holding the lock until LeanDojo
    returns, so no second request can interleave with it)."""

    def __init__(self, ld: Any, location: Location, tactic_timeout: float, start_timeout: float,
                 max_restarts: int):
        self.ld, self.location = ld, location
        self.tactic_timeout, self.start_timeout, self.max_restarts = tactic_timeout, start_timeout, max_restarts
        self.lock = threading.Lock()
        self.dojo: Any = None
        self.states: dict[TacticPath, Any] = {}    # LeanDojo states of the current Dojo, by tactic path
        self.seen: dict[TacticPath, str] = {}      # the goals each path gave, across restarts
        self.restarts = 0
        self.closed = ""                      # why the session is unusable, once it is
        self.handles: list[int] = []          # our state handles that point into this session

    # ------------------------------------------------------------ called in a worker thread
    def open(self) -> Any:
        with self.lock:
            return self._enter()

    def run(self, path: TacticPath, tactics: Sequence[str]) -> list[Any]:
        """Each tactic on the state at `path`: a LeanDojo result, or the exception it raised."""
        with self.lock:
            out: list[Any] = []
            for tactic in tactics:
                try:
                    out.append(self._step(path, self._state_at(path), tactic))
                except Exception as e:
                    out.append(e)
            return out

    def close(self, why: str = "released") -> None:
        with self.lock:
            self.closed = self.closed or why
            self._discard()

    # ------------------------------------------------------------ internals (lock held)
    def _enter(self) -> Any:
        """Enter a Dojo, giving up after `start_timeout` (entering runs in its own thread; a Dojo
        that arrives after we gave up is exited by that thread)."""
        if self.closed:
            raise _Unusable(f"the LeanDojo session is closed ({self.closed})")
        url, commit, path, name = self.location
        box: dict[str, Any] = {}
        guard, done = threading.Lock(), threading.Event()

        def target() -> None:
            dojo = None
            try:
                # LeanGitRepo may query GitHub and Dojo.__enter__ may trace: both count as start-up
                dojo = self.ld.Dojo(self.ld.Theorem(self.ld.LeanGitRepo(url, commit), path, name),
                                    timeout=max(1, math.ceil(self.tactic_timeout)))
                entered = dojo.__enter__()
            except BaseException as e:
                if dojo is not None:   # __enter__ may fail after spawning Lean (DojoInitError on EOF)
                    _exit(dojo)
                with guard:
                    box.setdefault("error", e)
            else:
                with guard:
                    late = "gave_up" in box
                    box.setdefault("value", entered)
                if late:
                    _exit(dojo)
            done.set()

        threading.Thread(target=target, name="lean-dojo-enter", daemon=True).start()
        if not done.wait(self.start_timeout):
            with guard:
                if not box:
                    box["gave_up"] = True
        if "gave_up" in box:
            self.closed = f"LeanDojo start-up took longer than {self.start_timeout:g}s"
            raise _Unusable(self.closed)
        if "error" in box:
            raise box["error"]
        dojo, s0 = box["value"]
        self.dojo, self.states = dojo, {(): s0}
        return s0

    def _state_at(self, path: TacticPath) -> Any:
        """The LeanDojo state at `path`, entering a new Dojo and replaying when the last one was
        discarded (a timeout or crash)."""
        if self.closed:
            raise _Unusable(f"the LeanDojo session is closed ({self.closed})")
        if self.dojo is None:
            if self.restarts >= self.max_restarts:
                self.closed = f"its Dojo was restarted {self.restarts} times after timeouts or crashes"
                raise _Unusable(f"the LeanDojo session is closed ({self.closed})")
            self.restarts += 1
            self._enter()
        k = max(i for i in range(len(path) + 1) if path[:i] in self.states)
        state = self.states[path[:k]]
        for i in range(k, len(path)):
            result = self._step(path[:i], state, path[i])
            if not isinstance(result, self.ld.TacticState) or result.pp != self.seen[path[:i + 1]]:
                # the search's node holds the old goals: a different state under its handle would lie
                self.closed = f"replaying {path[i]!r} in a restarted Dojo did not give the state it gave before"
                raise _Unusable(f"the LeanDojo session is closed ({self.closed})")
            state = result
        return state

    def _step(self, path: TacticPath, state: Any, tactic: str) -> Any:
        try:
            result = self.dojo.run_tac(state, tactic)
        except BaseException:
            # a timeout leaves the late reply in the pipe; a crash leaves no process: never reuse
            self._discard()
            raise
        if isinstance(result, self.ld.TacticState):
            self.states[path + (tactic,)] = result
            self.seen.setdefault(path + (tactic,), result.pp)
        return result

    def _discard(self) -> None:
        dojo, self.dojo, self.states = self.dojo, None, {}
        if dojo is not None:
            _exit(dojo)


def _exit(dojo: Any) -> None:
    """Leave a Dojo context (kills its Lean processes); a crashed Dojo may fail to, harmlessly."""
    try:
        dojo.__exit__(None, None, None)
    except Exception:
        pass


class DojoEnv:
    def __init__(self, locations: dict[str, Location] | None = None, *, repo: str | None = None,
                 commit: str | None = None, file: str | None = None, tactic_timeout: float = 600,
                 start_timeout: float = 600, max_restarts: int = 2, verifier: ProofEnv | None = None):
        self.ld = import_lean_dojo()
        self.locations = dict(locations or {})
        self.repo, self.commit, self.file = repo, commit, file
        self.tactic_timeout, self.start_timeout, self.max_restarts = tactic_timeout, start_timeout, max_restarts
        self.verifier = verifier
        self._states: dict[int, tuple[_Session, TacticPath]] = {}   # handle -> (session, tactic path)
        self._sessions: set[_Session] = set()
        self._ids = itertools.count()

    def locate(self, theorem: Theorem) -> Location | None:
        """Where LeanDojo finds `theorem`: its own entry, else the default file under its declared name."""
        if theorem.id in self.locations:
            return self.locations[theorem.id]
        if self.repo and self.commit and self.file:
            return self.repo, self.commit, self.file, declared_name(theorem)
        return None

    async def start(self, theorem: Theorem) -> StartResult:
        location = self.locate(theorem)
        if location is None:
            return EnvFailure(f"no LeanDojo location for {theorem.id}: give dojo_repo, dojo_commit and "
                              "dojo_file, or a dojo_locations entry for it")
        session = _Session(self.ld, location, self.tactic_timeout, self.start_timeout, self.max_restarts)
        self._sessions.add(session)
        try:
            s0 = await _in_thread(session.open)
        except Exception as e:  # DojoInitError, a start-up timeout, a bad URL: never dropped
            self._sessions.discard(session)   # it holds no Dojo (a late one is exited on arrival)
            return EnvFailure(f"LeanDojo could not start {theorem.id}: {type(e).__name__}: {e}")
        return self._register(session, (), s0)

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        return (await self.run_tactics(state, [tactic]))[0]

    async def run_tactics(self, state: TacticState, tactics: Sequence[str]) -> list[TacticResult]:
        """All of an expansion's tactics in one worker-thread call: they run one after another on
        the session's Dojo anyway."""
        if state.id not in self._states:
            unknown = EnvFailure(f"unknown state handle {state.id} (released, or from another environment)")
            return [unknown] * len(tactics)
        session, path = self._states[state.id]
        refused = {i: LeanError(f"forbidden tactic '{bad}' refused before reaching Lean")
                   for i, t in enumerate(tactics) if (bad := forbidden_tactic(t))}
        sent = [t for i, t in enumerate(tactics) if i not in refused]
        replies = iter(await _in_thread(session.run, path, sent) if sent else [])
        return [refused[i] if i in refused else self._outcome(session, path, t, next(replies))
                for i, t in enumerate(tactics)]

    async def release(self, root: TacticState) -> None:
        """The attempt started at `root` is over: exit its Dojo and forget its states."""
        entry = self._states.get(root.id)
        if entry is not None:
            await self._drop(entry[0])

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        if self.verifier is not None:
            return await self.verifier.verify(theorem, tactics)
        reasons = precheck(theorem, tactics)
        return Verdict(False, tuple(reasons) + (
            "no authoritative verifier configured for LeanDojo: give lean_project and repl_path "
            "(a REPL pool) or kimina_url (a Kimina Lean Server)",))

    async def close(self) -> None:
        for session in list(self._sessions):
            await self._drop(session)
        if self.verifier is not None:
            await self.verifier.close()

    @property
    def open_sessions(self) -> int:
        """Dojos entered and not yet released (one Lean process each)."""
        return len(self._sessions)

    # ------------------------------------------------------------ internals
    async def _drop(self, session: _Session) -> None:
        self._sessions.discard(session)
        for handle in session.handles:
            self._states.pop(handle, None)
        await _in_thread(session.close)

    def _outcome(self, session: _Session, path: TacticPath, tactic: str, result: Any) -> TacticResult:
        ld = self.ld
        if isinstance(result, _Unusable):
            return EnvFailure(str(result))
        if isinstance(result, Exception):
            if isinstance(result, getattr(ld, "DojoTacticTimeoutError", ())):
                return TacticTimeout(self.tactic_timeout, "LeanDojo tactic timeout; its Dojo was exited "
                                                          "and is restarted on the next request")
            return EnvFailure(f"LeanDojo {type(result).__name__}: {result}"[:500])
        if isinstance(result, ld.TacticState):
            return self._register(session, path + (tactic,), result)
        if isinstance(result, ld.ProofFinished):
            return ProofFinished(next(self._ids), _messages(result))
        if isinstance(result, ld.ProofGivenUp):
            return ProofGivenUp()
        if isinstance(result, ld.LeanError):
            return LeanError(str(result.error))
        return EnvFailure(f"unexpected LeanDojo result {type(result).__name__}")

    def _register(self, session: _Session, path: TacticPath, dojo_state: Any) -> TacticState:
        handle = next(self._ids)
        self._states[handle] = (session, path)
        session.handles.append(handle)
        # LeanDojo prints all goals in one string, separated by blank lines
        goals = tuple(g for g in str(dojo_state.pp).split("\n\n") if g.strip())
        return TacticState(goals=goals, id=handle, messages=_messages(dojo_state))


def _messages(result: Any) -> tuple[str, ...]:
    """LeanDojo's `message` (Lean's info/warning output of the tactic), when it has one."""
    message = getattr(result, "message", None)
    return (message,) if isinstance(message, str) and message.strip() else ()
