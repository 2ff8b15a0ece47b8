"""Campaigns on miniF2F (issue 24): fixed closers beside the sampled tactics, the hard side of the
frontier, the proof book and tactic mix, the configs' guards, and a proving campaign killed with
SIGKILL that resumes to the same proofs and metrics as an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import run
from fake_env import FakeEnv, theorem
from lean_env.jsonl import append_jsonl
from lean_env.types import Theorem
from policy.scripted import ScriptedGenerator
from prover.config import ConfigError, load_config
from prover.proofs import KeptProof, ProofBook, keep_shortest, tactic_mix
from search.best_first import SearchConfig, search
from search.records import AttemptRecord

ROOT = Path(__file__).parent.parent


def propose(tactics):
    gen = ScriptedGenerator(lambda s: tactics)

    async def go(state, n):
        return gen.generate([state], n)[0]
    return go


# -- the fixed closers beside the sample ------------------------------------------------------
def test_fixed_closers_run_at_every_node_beside_the_sampled_tactics():
    cfg = SearchConfig(tactics_per_expansion=1, max_expansions=8, closers=("zero", "dec"))
    assert cfg.budget == "1+2x8"
    rec, _ = run(search(theorem(2), FakeEnv(), propose([("same", -0.1)]), cfg))
    assert rec.proved and rec.proof == ["dec", "dec", "zero"]   # only the closers make progress here
    # a closer the model also sampled runs once, with the model's score
    rec, _ = run(search(theorem(1), FakeEnv(), propose([("dec", -0.1)]), cfg))
    assert rec.proved and rec.tactics_tried == 2 * rec.expansions
    assert rec.steps[0].logprob == pytest.approx(-0.1)
    # without closers the same sample proves nothing
    rec, _ = run(search(theorem(2), FakeEnv(), propose([("same", -0.1)]), SearchConfig(1, 8)))
    assert not rec.proved


# -- the frontier: mastered statements wait, hard ones get a larger budget or wait ---------------
def write_round(root: Path, r: int, outcomes: dict[str, bool], attempts: int = 1) -> None:
    rows = [AttemptRecord(theorem_id=t, benchmark="b", split="s", attempt=i, proved=ok and i == attempts - 1,
                          proof=["x"] if ok and i == attempts - 1 else None,
                          failure="" if ok and i == attempts - 1 else "exhausted").to_dict()
            for t, ok in outcomes.items() for i in range(attempts)]
    append_jsonl(root / "rounds" / f"{r:03d}" / "search" / "attempts.jsonl", rows)


def test_frontier_widens_or_parks_the_statements_the_model_keeps_failing(tmp_path):
    from prover.config import CampaignConfig
    from prover.recipes.expert_iteration import frontier
    from prover.run_dir import RunDir

    pool = [Theorem(name=n, header="", statement=f"theorem {n} : True := by", split="s") for n in "abc"]
    write_round(tmp_path, 1, {"a": True, "b": False, "c": False}, attempts=3)   # a: proved by its 3rd attempt
    write_round(tmp_path, 2, {"a": True, "b": False, "c": True})
    run_dir = RunDir(tmp_path)

    def cfg(**pool_cfg):
        return CampaignConfig(pool={"mastered_after": 2, "revisit_every": 4, **pool_cfg})
    ids = lambda ts: [t.id for t in ts]
    normal, hard = frontier(run_dir, cfg(hard_after=2, hard_expansions=64), 3, pool)
    assert (ids(normal), ids(hard)) == (["c"], ["b"])   # a mastered; b failed twice: the wide budget
    normal, hard = frontier(run_dir, cfg(hard_after=2), 3, pool)
    assert (ids(normal), ids(hard)) == (["c"], [])       # hard_expansions 0: b waits
    assert frontier(run_dir, cfg(hard_after=3, hard_expansions=64), 3, pool)[1] == []   # 2 failed rounds < 3
    assert frontier(run_dir, cfg(hard_after=2, hard_expansions=64), 2, pool)[1] == []   # 3 attempts, 1 round
    normal, hard = frontier(run_dir, cfg(hard_after=2, hard_expansions=64), 4, pool)
    assert (ids(normal), hard) == (["a", "b", "c"], [])  # a revisit round searches everything normally


# -- the proof book and what the proofs are made of ----------------------------------------------
def test_the_book_keeps_each_statements_shortest_proof_and_writes_checkable_lean(tmp_path):
    from lean_env.benchmarks import load_benchmark

    theorems = load_benchmark("minif2f", "test")[:2]
    a, b = theorems[0].id, theorems[1].id
    book = keep_shortest({}, [KeptProof(a, ["norm_num", "linarith"], 1, "round_000")])
    book = keep_shortest(book, [KeptProof(a, ["nlinarith [sq_nonneg (x - 1)]"], 2, "round_001"),
                                KeptProof(a, ["omega", "omega", "omega"], 2, "round_001"),
                                KeptProof(b, ["omega"], 2, "round_001")])
    assert book[a].tactics == ["nlinarith [sq_nonneg (x - 1)]"] and book[a].round == 2
    assert keep_shortest(book, [KeptProof(b, ["simp"], 3, "round_002")])[b].round == 2   # ties keep the first
    pb = ProofBook(tmp_path / "proofs")
    pb.write(book, theorems)
    assert pb.proofs() == book
    text = pb.lean.read_text()
    assert text.startswith("import Mathlib") and text.count("import Mathlib") == 1
    assert theorems[0].statement.rstrip() + "\n  nlinarith [sq_nonneg (x - 1)]" in text
    assert f"-- {b}: 1 tactic(s), round 2, round_001" in text


def test_tactic_mix_tells_closers_from_hints_and_rewriting():
    mix = tactic_mix([["omega"], ["intro h", "linarith"], ["nlinarith [sq_nonneg (a - b)]"],
                      ["field_simp", "norm_num [h₀]"], ["rw [h₀]", "exact foo"]])
    assert mix == {"fixed tactics only": 2, "nlinarith [hints]": 1, "field_simp": 1, "norm_num [h]": 1, "rw": 1,
                   "other": 1}
    assert tactic_mix([["simp_all", "omega"]]) == {"other": 1}
    assert tactic_mix([["simp_all", "omega"]], closers=["simp_all"]) == {"fixed tactics only": 1}


# -- the configs ---------------------------------------------------------------------------------
def write(tmp_path: Path, cfg: dict, name: str = "c.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return p


def test_the_held_out_campaign_refuses_to_train_on_its_evaluation_split(tmp_path):
    cfg = yaml.safe_load((ROOT / "configs" / "minif2f-heldout.yaml").read_text())
    cfg["seeds"]["closers"].append({"benchmark": "minif2f", "split": "test"})
    with pytest.raises(ConfigError, match="minif2f/test is an evaluation split"):
        load_config(write(tmp_path, cfg))
    proving = yaml.safe_load((ROOT / "configs" / "minif2f-proving.yaml").read_text())
    with pytest.raises(ConfigError, match="learner: proving does not read eval"):
        load_config(write(tmp_path, {**proving, "eval": {"splits": ["valid"]}}))
    with pytest.raises(ConfigError, match="closer_logprob"):
        load_config(write(tmp_path, {**proving, "search": {"closer_logprob": 1.0}}))


# -- a proving campaign, killed and resumed ------------------------------------------------------
SMOKE = {
    "name": "smoke-proving", "seed": 0, "rounds": 2, "learner": "proving", "concurrency": 8,
    "pool": {"benchmark": "minif2f", "split": "test", "limit": 10, "attempts": 2, "hard_after": 1,
             "hard_expansions": 4},
    "seeds": {"human": [{"benchmark": "embedded", "split": "train"}],
              "closers": [{"benchmark": "minif2f", "split": "valid"}]},
    "env": {"workers": 1},
    "generator": {"sampling": {"max_tokens": 24}},
    "search": {"tactics_per_expansion": 4, "max_expansions": 3, "closers": ["omega", "linarith", "norm_num"],
               "closer_templates": True},
    "filter": {"low_quantile": 0.0, "high_quantile": 0.0, "drop_fixed_tactics": True},
    "sft": {"epochs": 1, "warmup_steps": 1},
    "model": {"preset": "micro", "seed_epochs": 1},
}


def campaign(cfg_path: Path, run_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "prover.cli", "campaign", "--config", str(cfg_path),
                             "--run-dir", str(run_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def finished(p: subprocess.Popen) -> None:
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err.decode()[-2000:]


def measured(row: dict) -> dict:
    """A metrics row less what the clock decides."""
    return {k: v for k, v in row.items() if not k.startswith(("time_", "cpu_"))}


@pytest.mark.slow
@pytest.mark.timeout(900)   # three small campaigns, a verify and a report; minutes on a busy machine
def test_proving_campaign_resumes_after_sigkill_with_the_same_proofs(tmp_path):
    cfg = write(tmp_path, SMOKE)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    finished(campaign(cfg, straight))

    p = campaign(cfg, killed)
    searching = killed / "rounds" / "001" / "search" / "attempts.jsonl"
    deadline = time.time() + 300
    while not searching.exists():   # kill it in round 1's search
        assert time.time() < deadline and p.poll() is None, p.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    finished(campaign(cfg, killed))

    rows = [json.loads(x) for x in (straight / "metrics.jsonl").read_text().splitlines()]
    again = [json.loads(x) for x in (killed / "metrics.jsonl").read_text().splitlines()]
    assert [measured(r) for r in rows] == [measured(r) for r in again]
    assert (straight / "proofs.jsonl").read_text() == (killed / "proofs.jsonl").read_text()
    assert (straight / "proofs.lean").read_text() == (killed / "proofs.lean").read_text()
    assert [r["round"] for r in rows] == [0, 1, 2]
    # round 0: the proofs of the closers and of the fixed tactics alone (closers and templates)
    assert rows[0]["proved_total"] >= max(rows[0]["closers_proved"], rows[0]["templates_proved"]) > 0
    assert all(r["proved_total"] >= q["proved_total"] for q, r in zip(rows, rows[1:]))   # cumulative
    assert all(r["reverify_failed"] == 0 and r["soundness_incidents_search"] == 0 for r in rows)
    # the statements proved in round 0 were not searched again
    kept = {json.loads(x)["id"]: json.loads(x) for x in (straight / "proofs.jsonl").read_text().splitlines()}
    searched = {json.loads(x)["theorem_id"] for x in searching.read_text().splitlines()}
    assert not searched & {k for k, p in kept.items() if p["round"] == 0}

    # every kept proof checks again from scratch with `prover verify`
    out = subprocess.run([sys.executable, "-m", "prover.cli", "verify", str(straight / "proofs.jsonl"),
                          "--benchmark", "minif2f", "--json"], capture_output=True, text=True)
    verdicts = json.loads(out.stdout)
    assert out.returncode == 0 and verdicts["summary"]["verified"] == len(kept) > 0, out.stdout[-2000:]

    # other settings on resume are refused, with the diff
    changed = write(tmp_path, {**SMOKE, "search": {**SMOKE["search"], "max_expansions": 5}}, "changed.yaml")
    out = subprocess.run([sys.executable, "-m", "prover.cli", "campaign", "--config", str(changed), "--run-dir",
                          str(straight)], capture_output=True, text=True)
    assert out.returncode == 2 and "search.max_expansions: 3 -> 5" in out.stderr

    # the report: the table, every statement's searches, the CPU plot
    out = subprocess.run([sys.executable, "-m", "prover.cli", "report", str(straight)], capture_output=True, text=True)
    assert out.returncode == 0 and "statements proved (cumulative)" in out.stdout, out.stderr[-2000:]
    history = (straight / "attempt_history.tsv").read_text().splitlines()
    assert len(history) == 1 + SMOKE["pool"]["limit"]
    assert (straight / "plots" / "solved_vs_cpu.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_held_out_campaign_never_trains_on_the_test_split(tmp_path):
    cfg = yaml.safe_load((ROOT / "configs" / "minif2f-heldout.yaml").read_text())
    cfg.update(rounds=1, concurrency=8, env={"workers": 1}, generator={"sampling": {"max_tokens": 24}},
               model={"preset": "micro", "seed_epochs": 1}, sft={"epochs": 1, "warmup_steps": 1})
    cfg["pool"]["limit"] = 8
    cfg["eval"]["limit"] = 6
    cfg["search"].update(max_expansions=3)
    run_dir = tmp_path / "run"
    finished(campaign(write(tmp_path, cfg), run_dir))
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["closers_proved_test"] >= 0 and rows[0]["n_test"] == 6 and "mix_search" in rows[1]
    from lean_env.benchmarks import load_benchmark
    from training.store import PairStore

    test_ids = {t.id for t in load_benchmark("minif2f", "test")}
    seeds = [json.loads(x) for x in (run_dir / "seed_pairs.jsonl").read_text().splitlines()]
    trained = {p["theorem_id"] for p in seeds} | {p.theorem_id for p in PairStore(run_dir / "store").pairs()}
    assert trained and not trained & test_ids
    assert any(p["checkpoint"] == "closers" for p in seeds)   # the closers' miniF2F-valid proofs are seeds


def test_hint_templates_name_the_states_hypotheses_and_variables():
    from policy.scripted import hint_templates

    state = "a b : ℝ\nx✝ : ℕ\nh₀ : a * b = 180\nh₁ : 2 * (a + b) ≠ 54\nf : ℕ → ℕ\n⊢ a ^ 2 + b ^ 2 = 369"
    out = hint_templates(state)
    assert "norm_num [h₀, h₁] at *" in out and "rw [h₀]" in out and "rw [h₁]" not in out   # ≠ rewrites nothing
    assert "nlinarith [sq_nonneg (a - b)]" in out
    assert not any("x✝" in t or "f]" in t for t in out)
    assert hint_templates("⊢ 1 + 1 = 2") == ["subst_vars"]


def test_hint_templates_run_beside_the_sample_when_asked():
    from lean_env.benchmarks import load_benchmark
    from lean_env.factory import make_env

    thm = next(t for t in load_benchmark("minif2f", "test") if t.id == "mathd_algebra_171")   # rw [h₀]; norm_num

    async def go(cfg):
        env = make_env("embedded", workers=1)
        try:
            return await search(thm, env, propose([("skip", -0.1)]), cfg)
        finally:
            await env.close()
    plain = SearchConfig(tactics_per_expansion=1, max_expansions=6, closers=("norm_num",))
    assert not run(go(plain))[0].proved
    rec, _ = run(go(SearchConfig(tactics_per_expansion=1, max_expansions=6, closers=("norm_num",),
                                 closer_templates=True)))
    assert rec.proved and "h₀" in rec.proof[0]
    assert all(s.logprob == -2.0 for s in rec.steps)   # every step a fixed one: no model tactic


def test_the_closers_reference_is_the_scripted_baseline_whatever_the_model_search_adds():
    from prover.recipes.shared import closers_search_config

    cfg = SearchConfig(tactics_per_expansion=3, max_expansions=32, closers=("simp_all",), closer_templates=True)
    assert closers_search_config(cfg) == SearchConfig(tactics_per_expansion=8, max_expansions=32)
