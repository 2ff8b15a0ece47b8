"""The generation batcher and the pass@k scheduler: batching across searches, early stop, crashes, resume."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from conftest import run
from fake_env import FakeEnv, theorem
from lean_env.jsonl import append_jsonl, read_jsonl
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig
from policy.base import TacticCandidate
from search.records import AttemptRecord
from search.scheduler import AttemptsCrashed, RunConfig, canonical, iter_attempts, run_attempts, schedule
from policy.scripted import ScriptedGenerator

PROVER = [("dec", -0.1), ("zero", -0.1)]


async def with_batcher(gen, fn, **kw):
    batcher = GenerationBatcher(gen, **kw)
    try:
        return await fn(batcher)
    finally:
        await batcher.close()


def run_all(thms, gen, search_cfg, run_cfg, env=None, on_record=None, **batch_kw):
    env = env or FakeEnv()
    return run(with_batcher(gen, lambda b: run_attempts(thms, env, b, search_cfg, run_cfg, on_record), **batch_kw))


def test_batcher_batches_concurrent_requests_and_keeps_answers_apart():
    gen = ScriptedGenerator(lambda s: [(f"t-{s}", -0.1)])

    async def main(b):
        return await asyncio.gather(*(b.propose(f"s{i}", 1) for i in range(20)))
    out = run(with_batcher(gen, main, max_batch=8, linger=0.01))
    assert [o[0].tactic for o in out] == [f"t-s{i}" for i in range(20)]
    assert max(gen.calls) == 8 and sum(gen.calls) == 20


def test_batcher_fills_the_next_batch_while_the_model_is_busy():
    class Slow(ScriptedGenerator):
        def generate(self, states, n):
            time.sleep(0.05)
            return super().generate(states, n)
    gen = Slow(["x"])

    async def main(b):
        first = asyncio.create_task(b.propose("a", 1))
        await asyncio.sleep(0.01)                     # the model is now busy with ["a"]
        rest = await asyncio.gather(*(b.propose(f"s{i}", 1) for i in range(10)))
        return await first, rest
    run(with_batcher(gen, main, max_batch=64, linger=0.0))
    assert gen.calls == [1, 10]


def test_batcher_groups_by_n_and_reports_generator_errors():
    class Flaky(ScriptedGenerator):
        def generate(self, states, n):
            if any("bad" in s for s in states):
                raise RuntimeError("tokenizer exploded")
            return super().generate(states, n)
    gen = Flaky(["a", "b", "c"])

    async def main(b):
        ok = await asyncio.gather(b.propose("s", 1), b.propose("t", 3))
        with pytest.raises(RuntimeError, match="tokenizer"):
            await b.propose("bad", 2)
        again = await b.propose("u", 2)                 # the batcher survives a failed call
        return ok, again
    (one, three), two = run(with_batcher(gen, main, linger=0.01))
    assert (len(one), len(three), len(two)) == (1, 3, 2)


def test_batcher_checks_the_generator_answers_every_state():
    class Short(ScriptedGenerator):
        def generate(self, states, n):
            return super().generate(states, n)[:-1]

    async def main(b):
        with pytest.raises(RuntimeError, match="0 candidate lists for 1 states"):
            await asyncio.gather(b.propose("a", 1), b.propose("b", 1))
    run(with_batcher(Short(["x"]), main, linger=0.05))


def test_batcher_back_pressure_bounds_the_queue():
    release = threading.Event()

    class Blocked(ScriptedGenerator):
        def generate(self, states, n):
            release.wait(5)
            return super().generate(states, n)
    gen = Blocked(["x"])

    async def main(b):
        tasks = [asyncio.create_task(b.propose(f"s{i}", 1)) for i in range(10)]
        await asyncio.sleep(0.05)
        queued = b._queue.qsize()
        release.set()
        await asyncio.gather(*tasks)
        return queued
    queued = run(with_batcher(gen, main, max_batch=2, max_pending=3, linger=0.0))
    assert queued <= 3 and sum(gen.calls) == 10


def test_schedule_interleaves_attempts_across_theorems():
    thms = [theorem(n) for n in (1, 2, 3)]
    order = [(t.id, a) for t, a in schedule(thms, RunConfig(attempts=2, skip={("toy2", 0)}))]
    assert order == [("toy1", 0), ("toy3", 0), ("toy1", 1), ("toy2", 1), ("toy3", 1)]
    with pytest.raises(ValueError, match="unique"):
        list(schedule([theorem(1), theorem(1)], RunConfig()))


def test_pass_at_k_stops_a_theorem_after_its_first_verified_proof():
    env = FakeEnv()
    gen = ScriptedGenerator(lambda s: PROVER)
    thms = [theorem(n) for n in range(1, 9)]
    records = run_all(thms, gen, SearchConfig(2, 20), RunConfig(attempts=4, concurrency=16), env=env,
                      max_batch=64, linger=0.01)
    by = {}
    for r in records:
        by.setdefault(r.theorem_id, []).append(r)
    assert set(by) == {t.id for t in thms}
    assert all(sum(r.proved for r in rs) == 1 and len(rs) == 1 for rs in by.values())
    assert len(env.starts) < 4 * len(thms)                           # pending attempts never started
    assert max(gen.calls) > 1                                        # requests from searches were batched
    assert all(env_ok for env_ok in (r.proof in env.verified for r in records))


def test_without_early_stop_every_attempt_runs():
    gen = ScriptedGenerator(lambda s: PROVER)
    thms = [theorem(n) for n in (1, 2, 3)]
    records = run_all(thms, gen, SearchConfig(2, 20), RunConfig(attempts=3, stop_on_success=False))
    assert sorted((r.theorem_id, r.attempt) for r in records) == [(t.id, a) for t in thms for a in range(3)]
    assert all(r.proved for r in records)


def test_running_attempts_are_cancelled_once_one_proves():
    env = FakeEnv(slow_seconds=0.01)
    seen_root = []

    def table(s):
        # The first attempt to ask at the root goes down to a proof; the others climb forever.
        n = int(s.split()[1])
        if n == 3:
            seen_root.append(s)
            return [("dec", -0.1)] if len(seen_root) == 1 else [("inc", -0.1)]
        return [("dec", -0.1), ("zero", -0.1)] if n < 3 else [("inc", -0.1), ("slow", -0.2)]

    gen = ScriptedGenerator(table)
    t0 = time.perf_counter()
    records = run_all([theorem(3)], gen, SearchConfig(2, 10_000, wall_seconds=30), RunConfig(attempts=4, concurrency=4),
                      env=env, max_batch=1)
    assert len(records) == 1 and records[0].proved and records[0].attempt == 0
    assert len(env.starts) == 4 and len(seen_root) == 4           # all four were running ...
    assert len(env.verified) == 1                                   # ... and only one found a proof
    assert time.perf_counter() - t0 < 10                            # the climbers did not run to their budget


def test_a_crashing_env_call_does_not_stop_the_other_searches():
    gen = ScriptedGenerator(lambda s: [("boom", -0.1)] if s == "⊢ 7" else PROVER)
    done = []
    records = run_all([theorem(7), theorem(2), theorem(4)], gen, SearchConfig(2, 10), RunConfig(), on_record=done.append)
    by = {r.theorem_id: r for r in records}
    assert by["toy2"].proved and by["toy4"].proved
    assert not by["toy7"].proved and by["toy7"].env_failures == 1 and by["toy7"].failure == "exhausted"
    assert done == records


def test_a_crashing_generator_loses_only_its_attempt_and_is_reported():
    gen = ScriptedGenerator(lambda s: (_ for _ in ()).throw(ValueError("bad prompt")) if s == "⊢ 7" else PROVER)
    done = []
    with pytest.raises(AttemptsCrashed, match="1 of 3 attempts crashed.*toy7.*bad prompt") as info:
        run_all([theorem(7), theorem(2), theorem(4)], gen, SearchConfig(2, 10), RunConfig(), on_record=done.append)
    assert sorted(r.theorem_id for r in done) == ["toy2", "toy4"]
    assert info.value.errors[0][:2] == ("toy7", 0)


def test_a_bad_state_does_not_fail_its_batch_mates():
    class Picky(ScriptedGenerator):
        def generate(self, states, n):
            if "bad" in states:
                raise ValueError("bad prompt")
            return super().generate(states, n)
    gen = Picky(["x"])

    async def main(b):
        return await asyncio.gather(*(b.propose(s, 1) for s in ("a", "bad", "c")), return_exceptions=True)
    batcher = GenerationBatcher(gen, linger=0.05)
    a, bad, c = run(main(batcher))
    assert isinstance(bad, ValueError) and a[0].tactic == "x" and c[0].tactic == "x"
    assert batcher.batches == [3, 1, 1, 1]          # one batch first, then one by one


def test_a_failing_on_record_stops_everything():
    gen = ScriptedGenerator(lambda s: PROVER)

    def on_record(rec):
        raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        run_all([theorem(n) for n in range(1, 6)], gen, SearchConfig(2, 10), RunConfig(concurrency=1),
                on_record=on_record)


def test_resume_skips_recorded_attempts_and_solved_theorems(tmp_path):
    path = tmp_path / "attempts.jsonl"
    gen = ScriptedGenerator(lambda s: PROVER)
    thms = [theorem(n) for n in (1, 2, 3)]
    first = run_all(thms[:2], gen, SearchConfig(2, 10), RunConfig(attempts=2),
                    on_record=lambda r: append_jsonl(path, [r.to_dict()]))
    done = [AttemptRecord.from_dict(d) for d in read_jsonl(path)]
    assert [r.theorem_id for r in done] == [r.theorem_id for r in first]
    env = FakeEnv()
    skip = {(r.theorem_id, r.attempt) for r in done}
    solved = {r.theorem_id: r.attempt for r in done if r.proved}
    again = run_all(thms, gen, SearchConfig(2, 10), RunConfig(attempts=2, skip=skip, solved=solved), env=env)
    assert [r.theorem_id for r in again] == ["toy3"] and set(env.starts) == {"toy3"}


class ByAttempt:
    """A generator that reads the attempt from each request's key: attempt `proves` of a theorem
    goes down to a proof, every other attempt climbs (slowly) until its budget runs out."""

    def __init__(self, proves: int):
        self.proves, self.keys = proves, []

    def generate(self, states, n, keys=None):
        self.keys += keys
        out = []
        for state, key in zip(states, keys):
            theorem_id, attempt, visit, key_state = key.split("\x00")
            assert key_state == state and visit == "0"    # best-first asks once per state and attempt
            down = int(attempt) == self.proves
            out.append([TacticCandidate("dec" if down else "inc", -0.1, 1)] + [TacticCandidate("zero", -0.2, 1)] * down)
        return out


def test_an_early_attempt_still_runs_when_a_later_one_proves_first():
    env = FakeEnv(slow_seconds=0.01)
    gen = ByAttempt(proves=2)
    records = run_all([theorem(3)], gen, SearchConfig(2, 12, wall_seconds=30), RunConfig(attempts=4, concurrency=4),
                      env=env, max_batch=1)
    # attempt 2 proves first; 0 and 1 run to their budget (they are part of the run), 3 is cancelled
    assert sorted((r.attempt, r.proved) for r in records) == [(0, False), (1, False), (2, True)]
    assert {k.split("\x00")[1] for k in gen.keys} == {"0", "1", "2", "3"}
    assert [(r.attempt, r.proved) for r in canonical(["toy3"], records[::-1], True)] == [(0, False), (1, False), (2, True)]


def test_canonical_keeps_the_attempts_up_to_the_first_proof_in_order():
    def rec(tid, attempt, proved, expansions=1):
        return AttemptRecord(tid, "toy", "test", attempt, proved, ["t"] if proved else None, expansions=expansions)
    records = [rec("b", 1, True), rec("a", 0, False), rec("b", 0, False), rec("b", 2, True), rec("a", 1, True),
               rec("b", 3, False), rec("a", 0, False, expansions=9), rec("c", 0, False)]
    got = [(r.theorem_id, r.attempt, r.expansions) for r in canonical(["b", "a"], records, True)]
    assert got == [("b", 0, 1), ("b", 1, 1), ("a", 0, 1), ("a", 1, 1)]   # first copy; c is not asked for
    assert len(canonical(["b", "a"], records, False)) == 6              # without early stop: every attempt


def test_skip_without_early_stop_runs_only_the_missing_attempts():
    env = FakeEnv()
    gen = ScriptedGenerator(lambda s: PROVER)
    skip = {("toy1", 0), ("toy1", 2)}
    records = run_all([theorem(1)], gen, SearchConfig(2, 10), RunConfig(attempts=3, stop_on_success=False, skip=skip),
                      env=env)
    assert [r.attempt for r in records] == [1]


def test_iter_attempts_yields_records_as_they_finish():
    gen = ScriptedGenerator(lambda s: PROVER)
    thms = [theorem(n) for n in (1, 5, 2)]

    async def main(b):
        return [r async for r in iter_attempts(thms, FakeEnv(), b, SearchConfig(2, 20), RunConfig())]
    records = run(with_batcher(gen, main))
    assert sorted(r.theorem_id for r in records) == ["toy1", "toy2", "toy5"]


def test_leaving_iter_attempts_early_cancels_the_rest():
    gen = ScriptedGenerator(lambda s: PROVER)
    env = FakeEnv()

    async def main(b):
        async for r in iter_attempts([theorem(n) for n in range(1, 40)], env, b, SearchConfig(2, 100), RunConfig(concurrency=2)):
            return r
    first = run(with_batcher(gen, main))
    assert first.proved and len(env.starts) < 39


def test_bad_run_config_is_rejected():
    with pytest.raises(ValueError):
        RunConfig(attempts=0)
