"""The one JSON Lines module: torn tails, damage in the middle, atomic rewrites."""
from __future__ import annotations

import pytest

from lean_env.jsonl import JsonlError, append_jsonl, iter_jsonl, read_jsonl, repair_jsonl, write_jsonl_atomic
from search.records import AttemptRecord


def test_append_then_read_round_trips_records(tmp_path):
    p = tmp_path / "sub" / "attempts.jsonl"
    recs = [AttemptRecord("a", "b", "s", 0, False, None), AttemptRecord("ü", "b", "s", 1, True, ["simp"])]
    append_jsonl(p, [r.to_dict() for r in recs[:1]])
    append_jsonl(p, [r.to_dict() for r in recs[1:]])
    assert [AttemptRecord.from_dict(d) for d in read_jsonl(p)] == recs


def test_missing_file_reads_as_empty(tmp_path):
    assert read_jsonl(tmp_path / "nothing.jsonl") == []


def test_torn_tail_is_skipped_then_cut_by_the_next_append(tmp_path):
    # What a resumed run reads back: a write killed half-way loses only the torn line.
    p = tmp_path / "attempts.jsonl"
    append_jsonl(p, [{"theorem_id": "a"}])
    with open(p, "ab") as f:
        f.write(b'{"theorem_id": "b", "trunc')
    assert [r["theorem_id"] for r in read_jsonl(p)] == ["a"]
    append_jsonl(p, [{"theorem_id": "c"}])
    assert [r["theorem_id"] for r in read_jsonl(p)] == ["a", "c"]
    assert p.read_bytes().endswith(b"\n")


def test_input_files_report_a_torn_tail_instead_of_dropping_it(tmp_path):
    p = tmp_path / "theorems.jsonl"
    p.write_text('{"id": 1}\n{"id": ', encoding="utf-8")
    with pytest.raises(JsonlError, match=r"theorems.jsonl:2"):
        read_jsonl(p, torn_tail_ok=False)


def test_complete_last_line_without_newline_is_a_row(tmp_path):
    # Hand-written files often lack the final newline; that line is data, and an append must not
    # glue the next row onto it.
    p = tmp_path / "proofs.jsonl"
    p.write_text('{"id": 1}\n{"id": 2}', encoding="utf-8")
    assert [r["id"] for r in read_jsonl(p)] == [1, 2]
    assert repair_jsonl(p) == 0
    append_jsonl(p, [{"id": 3}])
    assert [r["id"] for r in read_jsonl(p)] == [1, 2, 3]


def test_damage_in_the_middle_raises_with_the_line_number(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"id": 1}\n\nnot json\n{"id": 2}\n', encoding="utf-8")
    with pytest.raises(JsonlError, match=r"x.jsonl:3: not valid JSON"):
        read_jsonl(p)


def test_rows_must_be_objects(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"id": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(JsonlError, match=r"x.jsonl:2: expected a JSON object, got list"):
        read_jsonl(p)


def test_line_numbers_count_blank_lines(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('\n{"id": 1}\n\n{"id": 2}\n', encoding="utf-8")
    assert [n for n, _ in iter_jsonl(p)] == [2, 4]


def test_atomic_rewrite_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    p = tmp_path / "kept.jsonl"
    append_jsonl(p, [{"id": i} for i in range(5)])
    write_jsonl_atomic(p, [{"id": "only"}])
    assert read_jsonl(p) == [{"id": "only"}]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["kept.jsonl"]
