"""Pair store: only verified proofs, a canonical order, Parquet round trip, dedup, queries, atomic re-synthesis."""
from __future__ import annotations

import dataclasses

import pytest

from lean_env.jsonl import append_jsonl, read_jsonl
from search.records import AttemptRecord, ErrorSibling, ProofStep
from training import store as store_mod
from training.store import PairStore, pairs_from_records


def record(tid: str, proved: bool, steps: list[tuple[str, str]], errors=(), round_: int = 1,
           checkpoint: str = "") -> AttemptRecord:
    return AttemptRecord(
        theorem_id=tid, benchmark="embedded", split="train", attempt=0, proved=proved,
        proof=[t for _, t in steps] if proved else None,
        steps=[ProofStep(s, t, -0.5 * (i + 1), i) for i, (s, t) in enumerate(steps)],
        error_siblings=[ErrorSibling(s, t, "unknown identifier", 0) for s, t in errors],
        round=round_, checkpoint=checkpoint)


def test_only_verified_proofs_are_stored(tmp_path):
    recs = [record("t1", True, [("s1", "intro h"), ("s2", "simp")], errors=[("s1", "bad1")], checkpoint="ckpt0"),
            record("t2", False, [("s3", "ring")], errors=[("s3", "bad2")])]
    # the records travel through JSON Lines as the search writes them
    append_jsonl(tmp_path / "attempts.jsonl", [r.to_dict() for r in recs])
    back = [AttemptRecord.from_dict(d) for d in read_jsonl(tmp_path / "attempts.jsonl")]
    pairs, errors = pairs_from_records(back, round_=3, checkpoint="c2")
    assert sorted((p.state, p.tactic) for p in pairs) == [("s1", "intro h"), ("s2", "simp")]
    # the checkpoint column is the one that searched (the record's tag); the argument is a fallback
    assert all(p.theorem_id == "t1" and p.round == 3 and p.checkpoint == "ckpt0" for p in pairs)
    back[0].checkpoint = ""
    assert {p.checkpoint for p in pairs_from_records(back, round_=3, checkpoint="c2")[0]} == {"c2"}
    assert {p.proof_length for p in pairs} == {2}
    assert [(e["state"], e["chosen"], e["rejected"]) for e in errors] == [("s1", "intro h", "bad1")]


def test_pairs_do_not_depend_on_the_order_attempts_finished_in():
    recs = [record("t2", True, [("b1", "omega")]), record("t1", True, [("a1", "intro h"), ("a2", "simp")]),
            record("t3", True, [("c1", "rfl")])]
    key = lambda pairs: [(p.theorem_id, p.state, p.tactic) for p in pairs]   # noqa: E731
    first = key(pairs_from_records(recs, 1, "c")[0])
    assert first == key(pairs_from_records(recs[::-1], 1, "c")[0]) == key(pairs_from_records(recs[1:] + recs[:1], 1, "c")[0])
    assert [t for t, _, _ in first] == ["t1", "t1", "t2", "t3"] and first[0][2] == "intro h"   # proof order kept


def test_round_trip_dedup_and_queries(tmp_path):
    st = PairStore(tmp_path / "store")
    p1, e1 = pairs_from_records([record("t1", True, [("s1", "a"), ("s2", "b")], errors=[("s2", "x")])], 1, "c0")
    p2, _ = pairs_from_records([record("t1", True, [("s1", "a")]), record("t3", True, [("s9", "z")])], 2, "c1")
    st.add(1, p1, e1)
    st.add(2, p2)
    rows = st.pairs()
    assert sorted((r.state, r.tactic, r.round) for r in rows) == [("s1", "a", 2), ("s2", "b", 1), ("s9", "z", 2)]
    assert {(r.state, r.tactic) for r in st.pairs(rounds=[1])} == {("s1", "a"), ("s2", "b")}
    assert {(r.state, r.tactic) for r in st.pairs(checkpoint="c1")} == {("s1", "a"), ("s9", "z")}
    assert st.rounds() == [1, 2]
    ds = st.dataset()
    assert len(ds) == 3 and set(ds.column_names) >= {"state", "tactic", "round", "checkpoint", "logprob"}
    assert [(e["chosen"], e["rejected"]) for e in st.errors()] == [("b", "x")]
    # a fresh handle on the same directory reads the same data (it is on disk, not in memory)
    assert sorted(map(str, PairStore(tmp_path / "store").pairs())) == sorted(map(str, rows))
    # re-adding a round replaces its file instead of duplicating rows
    st.add(2, p2)
    assert len(st.pairs(rounds=[2])) == 2 and len(list((st.generation).glob("pairs_r002_*.parquet"))) == 1


def test_bad_rows_are_rejected_and_nothing_is_written(tmp_path):
    st = PairStore(tmp_path)
    good, _ = pairs_from_records([record("t1", True, [("s1", "a")])], 1, "c0")
    st.add(1, good)
    with pytest.raises(ValueError, match="schema"):
        st.add(2, [dataclasses.replace(good[0], round="not a number")])
    assert st.rounds() == [1]


def test_replace_all_is_atomic(tmp_path, monkeypatch):
    st = PairStore(tmp_path)
    old, _ = pairs_from_records([record("t1", True, [("s1", "a"), ("s2", "b")])], 1, "c0")
    st.add(1, old)
    new, _ = pairs_from_records([record("t1", True, [("s1", "better")])], 5, "c4")

    real_write = store_mod._write_atomic
    calls = {"n": 0}

    def dying_write(table, path):       # the process "dies" after the first file of the new generation
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed mid-way")
        real_write(table, path)

    monkeypatch.setattr(store_mod, "_write_atomic", dying_write)
    with pytest.raises(KeyboardInterrupt):
        st.replace_all(5, new)
    monkeypatch.setattr(store_mod, "_write_atomic", real_write)
    reopened = PairStore(tmp_path)
    assert sorted(r.tactic for r in reopened.pairs()) == ["a", "b"]

    reopened.replace_all(5, new)       # the retry ignores the debris of the killed attempt
    assert [(r.tactic, r.round) for r in PairStore(tmp_path).pairs()] == [("better", 5)]
    assert len(list(tmp_path.glob("gen_*"))) == 1
