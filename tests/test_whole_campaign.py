"""Expert iteration on whole proofs (a campaign with a `whole:` section, configs/embedded-whole.yaml):
the config's rules, how a verified (and a repaired) whole proof becomes a pair that reads back as
the same proof, the seed examples round 0 learns, and a small campaign killed with SIGKILL and
resumed that ends exactly as an uninterrupted one, refusing changed settings."""
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

from lean_env.benchmarks import load_benchmark
from prover.config import ConfigError, load_config
from search.whole_proof import WholeProofConfig, WholeProofSearch
from test_whole_proof import DRAFT, THEOREM_ID, Scripted, run

WHOLE_SMOKE = {
    "name": "smoke-whole", "seed": 0, "rounds": 2, "concurrency": 8,
    "pool": {"limit": 20},
    "env": {"workers": 1},
    "generator": {"preset": "tiny-whole", "sampling": {"max_tokens": 48}},
    "whole": {"repair_rounds": 1},
    "eval": {"splits": ["test"], "limit": 6},
    "filter": {"low_quantile": 0.1, "high_quantile": 0.1},
    "sft": {"epochs": 1, "warmup_steps": 1},
    "model": {"preset": "micro", "seed_epochs": 30},   # enough for the micro model to prove a few (omega)
}


def write(tmp_path: Path, cfg: dict, name: str = "c.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_the_whole_section_says_what_it_cannot_run_with(tmp_path):
    def bad(update: dict, match: str):
        with pytest.raises(ConfigError, match=match):
            load_config(write(tmp_path, {**WHOLE_SMOKE, **update}))

    bad({"generator": {"sampling": {"max_tokens": 48}}}, "whole-proof preset")          # a step model's format
    bad({"generator": {"preset": "goedel-prover-v2"}}, "whole-proof preset that continues")   # a chat answer
    bad({"search": {"max_expansions": 4}}, "do not read search")
    bad({"resynthesis": {"every": 2}}, "do not read resynthesis")
    bad({"whole": {"max_tokens": 10}}, "generator.sampling.max_tokens")
    bad({"learner": "grpo"}, "does not read .*whole")
    cfg = load_config(Path(__file__).parent.parent / "configs" / "embedded-whole.yaml")
    assert cfg.whole.repair_rounds == 1 and cfg.generator.preset == "tiny-whole"


def test_a_repaired_whole_proof_is_stored_as_the_proof_that_verified(tmp_path):
    """The pair's state is the first prompt (never a repair prompt), its tactic the proof that
    verified, laid out so that reading it back as a model output gives the same proof."""
    from training.store import whole_proof_pairs

    theorem = next(t for t in load_benchmark("embedded") if t.id == THEOREM_ID)
    search = WholeProofSearch("tiny-whole", WholeProofConfig(repair_rounds=1))
    propose = Scripted(["\n  ".join(DRAFT), "rw [hk]\n  ring"])

    async def go(env):
        rec, _ = await search(theorem, env, propose)
        failed, _ = await search(theorem, env, Scripted(["rw [nope]", "rw [nope]"]), attempt=1)
        return rec, failed

    rec, failed = run(go)
    assert rec.proved and rec.whole["fixed_in_round"] == 1 and not failed.proved
    pairs = whole_proof_pairs([failed, rec], 3, "round_002", lambda tid, proof: search.example(theorem, proof))
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair.state == propose.prompts[0] != propose.prompts[1]     # the statement prompt, not the resume one
    assert pair.round == 3 and pair.checkpoint == "round_002" and pair.proof_length == len(rec.proof)
    read_back, reasons = search.proof_of(theorem, pair.tactic)
    assert not reasons and search.example(theorem, read_back)[1] == pair.tactic
    assert "rw [hk]" in pair.tactic and "nope" not in pair.tactic

    async def verify(env):
        return await env.verify(theorem, read_back)

    assert run(verify).ok


def test_round_zero_learns_the_train_split_seed_proofs_as_whole_proofs(tmp_path):
    from prover.recipes.shared import seed_pairs
    from prover.run_dir import RunDir

    cfg = load_config(write(tmp_path, WHOLE_SMOKE))
    run_dir, _ = RunDir.open(tmp_path / "run", cfg)
    pairs = seed_pairs(run_dir, cfg)
    train = {t.id: t for t in load_benchmark("embedded", "train")}
    assert pairs and {p.theorem_id for p in pairs} <= set(train)        # never a valid or test proof
    search = WholeProofSearch("tiny-whole")
    whole = [p for p in pairs if p.depth == 0]
    resumes = [p for p in pairs if p.depth >= 1]
    assert len(whole) == len({p.theorem_id for p in pairs}) and resumes
    for p in whole:
        assert p.state == train[p.theorem_id].statement + "\n"
        assert search.proof_of(train[p.theorem_id], p.tactic)[0]
    assert all("/- tactic state:" in p.state and p.depth < p.proof_length for p in resumes)
    assert [p.to_dict() for p in seed_pairs(run_dir, cfg)] == [p.to_dict() for p in pairs]   # drawn from seed + theorem


def campaign(cfg_path: Path, run_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "prover.cli", "campaign", "--config", str(cfg_path),
                             "--run-dir", str(run_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def outcome(run: Path) -> dict:
    """What a run computed, without its timings: metrics, stored pairs, every attempt."""
    from training.store import PairStore

    def strip(row: dict) -> dict:
        return {k: v for k, v in row.items() if not k.startswith(("time", "cpu_")) and k not in ("wall", "timestamp")}

    attempts = {str(p.relative_to(run)): sorted(json.dumps(strip(json.loads(l)), sort_keys=True)
                                                for l in p.read_text().splitlines())
                for p in sorted((run / "rounds").rglob("attempts.jsonl"))}
    return {"metrics": [strip(json.loads(l)) for l in (run / "metrics.jsonl").read_text().splitlines()],
            "pairs": [strip(p.to_dict()) for p in PairStore(run / "store").pairs()], "attempts": attempts}


@pytest.mark.slow
def test_whole_proof_campaign_survives_sigkill_and_ends_as_an_uninterrupted_one(tmp_path):
    cfg = write(tmp_path, WHOLE_SMOKE)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    p = campaign(cfg, killed)
    searching = killed / "rounds" / "001" / "search" / "attempts.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and not searching.exists():   # kill once round 1's sampling has started
        if p.poll() is not None:
            pytest.fail(p.stderr.read().decode()[-2000:])
        time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    p.wait()
    for run_dir in (killed, straight):
        p = campaign(cfg, run_dir)
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()[-2000:]
    a, b = outcome(straight), outcome(killed)
    assert [m["round"] for m in a["metrics"]] == [0, 1, 2]
    assert a == b
    # the campaign stored verified whole proofs, each of which verifies again
    assert a["pairs"] and all(p["checkpoint"] == f"round_{p['round'] - 1:03d}" for p in a["pairs"])
    found = sum(m["pool_first_proofs"] + sum(m["pool_repair_fixed"]) for m in a["metrics"][1:])
    assert found == len(a["pairs"]) >= a["metrics"][-1]["pairs_total"]   # one pair per verified proof (the filter dedups)
    theorems = {t.id: t for t in load_benchmark("embedded")}
    rows = [json.loads(line) for path in straight.rglob("attempts.jsonl") for line in path.read_text().splitlines()]
    proofs = [(x["theorem_id"], x["proof"]) for x in rows if x["proved"]]

    async def reverify(env):
        return [(await env.verify(theorems[tid], proof)).ok for tid, proof in proofs]

    assert proofs and all(run(reverify))
    # a changed setting is refused with the difference named, and nothing is lost
    changed = write(tmp_path, {**WHOLE_SMOKE, "rounds": 3, "whole": {"repair_rounds": 2}}, "changed.yaml")
    p = campaign(changed, straight)
    _, err = p.communicate(timeout=120)
    assert p.returncode != 0 and "whole.repair_rounds: 1 -> 2" in err.decode()
    assert outcome(straight) == a
