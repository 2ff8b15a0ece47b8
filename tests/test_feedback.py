"""What a researcher sees: the Wilson interval, the plots (ticks, % axes, n, bands, legends), the
eval bar's count of decided theorems, `prover verify --json`, and readable tree drawings."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from lean_env.jsonl import read_jsonl
from lean_env.types import Outcome
from prover.progress import TheoremTally
from search.passk import wilson_interval
from search.records import AttemptRecord
from search.tree import QED, SearchTree

ROOT = Path(__file__).resolve().parents[1]


def test_wilson_interval_known_values():
    # 0/10: the "rule of three"-like upper bound every table of Wilson intervals gives as 0.2775
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27754), abs=1e-5)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.72246, abs=1e-5)
    # 50 of 96 (an embedded split): about +-10 points, not symmetric around 52.1%
    lo, hi = wilson_interval(50, 96)
    assert (lo, hi) == pytest.approx((0.42204, 0.61803), abs=1e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_wilson_interval_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    for k, n in [(0, 7), (3, 17), (48, 96), (95, 96), (260, 263)]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=2e-4)


def metric_rows() -> list[dict]:
    rows = []
    for r in range(6):
        row = {"round": r, "soft_reset": r == 4, "entropy": 1.0 - 0.1 * r, "pairs_total": 100, "pairs_kept": 80}
        for s, p in (("valid", 40 + 3 * r), ("test", 35 + 4 * r)):
            row.update({f"pass_{s}": p / 96, f"n_{s}": 96, f"proved_{s}": p})
        rows.append(row)
    return rows


def test_learning_curves_integer_round_ticks_percent_axis_n_and_wilson_bands():
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from prover.report import learning_curves_figure

    fig = learning_curves_figure(metric_rows(), ["test", "valid"])
    try:
        fig.canvas.draw()
        for ax in fig.axes:
            ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
            assert ticks and all(float(t).is_integer() for t in ticks), ticks
        ax = fig.axes[0]
        assert "%" in ax.get_ylabel()
        assert all(lbl.get_text().endswith("%") for lbl in ax.get_yticklabels() if lbl.get_text())
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "test (n=96)" in legend and "valid (n=96)" in legend and "soft reset" in legend
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2
        # the band of round 0's test rate is its Wilson interval, in percent
        lo, hi = wilson_interval(35, 96)
        ys = bands[0].get_paths()[0].vertices[:, 1]
        assert min(ys) == pytest.approx(100 * lo) and max(ys) >= 100 * hi - 1e-9
    finally:
        plt.close(fig)


def test_report_table_falls_back_to_the_eval_dir_for_n(tmp_path):
    from prover.report import split_counts

    rows = [{"round": 0, "pass_test": 0.5}]
    d = tmp_path / "rounds" / "000" / "eval_test"
    d.mkdir(parents=True)
    (d / "attempts.jsonl").write_text("".join(json.dumps({"theorem_id": f"t{i}"}) + "\n" for i in range(8)))
    assert split_counts(rows, "test", tmp_path) == [(4, 8)]


def test_filter_histogram_cutoffs_are_distinct_and_labelled_in_log_perplexity(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from training import ppl_filter

    saved = {}
    monkeypatch.setattr(plt, "close", lambda fig: saved.setdefault("fig", fig))
    ppls = [math.exp(0.02 * i) for i in range(100)]
    ppl_filter.plot_distribution(ppls, ppls[10] + 1e-9, ppls[90] - 1e-9, tmp_path / "f.png")
    ax = saved["fig"].axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2
    assert lines[0].get_color() != lines[1].get_color() and lines[0].get_linestyle() != lines[1].get_linestyle()
    assert lines[0].get_xdata()[0] == pytest.approx(math.log(ppls[10]))   # drawn on the log axis
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("too easy" in t and "log-ppl 0.20" in t and "11 pairs" in t for t in labels), labels
    assert any("noisy" in t and "log-ppl 1.80" in t and "10 pairs" in t for t in labels), labels


def rec(theorem: str, attempt: int, proved: bool) -> AttemptRecord:
    return AttemptRecord(theorem, "b", "test", attempt, proved, ["x"] if proved else None)


def test_eval_tally_counts_early_stopped_theorems_as_decided():
    tally = TheoremTally(["a", "b", "c"], attempts=4)
    tally.extend([rec("a", 0, True), *(rec("b", i, False) for i in range(4)), rec("c", 0, False), rec("zz", 0, True)])
    assert tally.decided() == 2 and len(tally.proved) == 1 and tally.attempts_done() == 6
    no_stop = TheoremTally(["a"], attempts=2, stop_on_success=False).extend([rec("a", 0, True)])
    assert no_stop.decided() == 0   # --samples: every attempt runs


def test_eval_bar_reaches_every_theorem_under_early_stopping_and_resumes_from_disk(tmp_path, monkeypatch):
    """A real `prover eval` (scripted generator, pass@3): the bar's total is reached although early
    stops leave attempts unrun, and a resumed run's bar starts at what is on disk."""
    from rich.progress import Progress

    from lean_env.factory import EnvConfig
    from policy.factory import GeneratorConfig
    from prover.eval_cmd import EvalRequest, run_eval_cli

    seen = []
    real_add, real_update = Progress.add_task, Progress.update
    monkeypatch.setattr(Progress, "add_task", lambda self, *a, **k: seen.append(("add", k)) or real_add(self, *a, **k))
    monkeypatch.setattr(Progress, "update", lambda self, t, **k: seen.append(("update", k)) or real_update(self, t, **k))
    req = EvalRequest(limit=6, pass_k=3, concurrency=4, out=tmp_path, env=EnvConfig(workers=1),
                      generator=GeneratorConfig(kind="scripted"))
    run_eval_cli(req)
    records = [AttemptRecord.from_dict(r) for r in read_jsonl(tmp_path / "attempts.jsonl")]
    proved = {r.theorem_id for r in records if r.proved}
    assert proved and len(records) < 6 * 3          # some theorem stopped early
    assert seen[0] == ("add", {"total": 6, "completed": 0, "proved": 0, "attempts": 0})
    assert [k["completed"] for op, k in seen if op == "update"][-1] == 6
    seen.clear()
    req.limit = 8   # a larger eval in the same dir: the bar starts from the six decided theorems
    run_eval_cli(req)
    assert seen[0] == ("add", {"total": 8, "completed": 6, "proved": len(proved), "attempts": len(records)})
    assert [k["completed"] for op, k in seen if op == "update"][-1] == 8


def test_verify_json_is_one_parseable_document(tmp_path):
    seeds = [json.loads(line) for line in (ROOT / "data/embedded/seed_proofs.jsonl").read_text().splitlines()[:3]]
    rows = [*seeds, {"id": seeds[0]["id"], "tactics": ["sorry"]}, {"id": "no_such_theorem", "tactics": ["rfl"]}]
    proofs = tmp_path / "p.jsonl"
    proofs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "prover.cli", "verify", str(proofs), "--json", "--workers", "1"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 1, out.stderr[-2000:]   # two rejected
    doc = json.loads(out.stdout)
    assert [p["id"] for p in doc["proofs"]] == [r["id"] for r in rows]
    assert [p["verdict"] for p in doc["proofs"]] == ["ok", "ok", "ok", "rejected", "rejected"]
    assert doc["proofs"][3]["reasons"][0].startswith("sorry")
    assert "no theorem 'no_such_theorem'" in doc["proofs"][4]["reasons"][0]
    assert doc["summary"]["proofs"] == 5 and doc["summary"]["verified"] == 3 and doc["summary"]["rejected"] == 2


def test_verify_json_carries_answer_reasons():
    from lean_env.types import Verdict
    from prover.verify_cmd import verdicts_json

    doc = verdicts_json([{"id": "p"}, {"id": "q"}], [Verdict(False, (), answer="3", answer_reasons=("wrong answer",)),
                                                     Verdict(True)], "b", "embedded", "f")
    assert doc["proofs"][0]["answer"] == "3" and doc["proofs"][0]["answer_reasons"] == ["wrong answer"]
    assert "answer" not in doc["proofs"][1]


def failed_and_proved_trees() -> tuple[SearchTree, SearchTree]:
    failed = SearchTree("⊢ a", "t_failed")
    failed.add_error("⊢ a", "omega", -0.5, Outcome.LEAN_ERROR, "omega failed")
    failed.mark_expanded("⊢ a")
    proved = SearchTree("⊢ a", "t_proved")
    proved.add_child("⊢ a", "⊢ b", "intro h", -0.1)
    proved.add_error("⊢ a", "simp", -0.7, Outcome.LEAN_ERROR, "simp made no progress")
    proved.mark_expanded("⊢ a")
    proved.add_child("⊢ b", QED, "exact h", -0.1)
    proved.mark_expanded("⊢ b")
    return failed, proved


def test_tree_drawing_readable_with_legend_failed_tactics_and_no_stray_sink():
    import matplotlib.pyplot as plt

    from search.tree_export import tree_figure

    failed, proved = failed_and_proved_trees()
    for tree, sink in ((failed, False), (proved, True)):
        fig = tree_figure(tree)
        try:
            ax = fig.axes[0]
            texts = [t for t in ax.texts]
            assert texts and min(t.get_fontsize() for t in texts) >= 9
            legend = [t.get_text() for t in ax.get_legend().get_texts()]
            assert "rejected tactic (red label)" in legend
            assert ("no goals (proof found)" in legend) == sink
            rejected = "omega" if tree is failed else "simp"
            assert any(t.get_text() == rejected for t in texts)   # the failed tactic is labelled
            # a failed search has no "no goals" node: every drawn node is connected to the root
            assert sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets")) == \
                tree.g.number_of_nodes() - (0 if sink else 1)
        finally:
            plt.close(fig)
