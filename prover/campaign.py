"""Campaigns: round 0, then rounds of the configured learner until `rounds`, resumable.

    prover campaign --config configs/embedded.yaml      # rerun the same command to resume

One expert-iteration round reads top to bottom in prover/recipes/expert_iteration.py, a
re-synthesis round (the soft reset) in prover/recipes/resynthesis.py, one GRPO round in
prover/recipes/grpo.py, one round of a proving campaign (the pool is the target) in
prover/recipes/proving.py; the run directory (paths, progress, resumption) is prover/run_dir.py.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from prover.config import CampaignConfig, check_settings
from prover.recipes.shared import Searcher
from prover.run_dir import RunDir


def run_round(run: RunDir, cfg: CampaignConfig, r: int, searcher: Searcher) -> dict:
    """Round r with the recipe it is due: round 0, GRPO, re-synthesis (decided once per round and
    kept across resumes), or expert iteration."""
    from prover.recipes import resynthesis
    from prover.recipes.expert_iteration import expert_iteration_round
    from prover.recipes.grpo import grpo_round
    from prover.recipes.proving import proving_round, proving_round_zero
    from prover.recipes.shared import round_zero

    if cfg.learner == "proving":   # test-time expert iteration: the pool is the target
        return proving_round_zero(run, cfg) if r == 0 else proving_round(run, cfg, r, searcher)
    if r == 0:
        return round_zero(run, cfg, searcher)
    if cfg.learner == "grpo":
        return grpo_round(run, cfg, r, searcher)
    key = f"pass_{cfg.eval.splits[0]}"
    if run.progress(r).plan("resynthesis", lambda: resynthesis.is_due(cfg.resynthesis, r, run.metrics(), key)):
        return resynthesis.resynthesis_round(run, cfg, r, searcher)
    return expert_iteration_round(run, cfg, r, searcher)


def quiet_hub() -> None:
    """No per-checkpoint progress bars in the campaign log."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def run_campaign(cfg: CampaignConfig, run_dir: Path, keep_saved: bool = False) -> None:
    """Check the settings, then open (or resume) the run and go to round `cfg.rounds`."""
    check_settings(cfg, need_model=not RunDir(run_dir).checkpoint(0).exists())
    torch.set_num_threads(min(torch.get_num_threads(), 4))
    quiet_hub()
    run, cfg = RunDir.open(run_dir, cfg, keep_saved)
    t0 = time.perf_counter()
    with Searcher(cfg) as searcher:   # one vLLM engine (or one set of Ray actors) for all rounds
        while (r := run.next_round()) <= cfg.rounds:
            run_round(run, cfg, r, searcher)
    run.log(f"campaign done in {time.perf_counter() - t0:.0f}s; `prover report {run.root}` draws the curves")
    from prover.report import print_report

    print_report(run.root)


def run_one_round(run_dir: Path) -> None:
    """`prover round RUN`: exactly one more round of an existing campaign, whatever `rounds` says."""
    run, cfg = RunDir.open(run_dir)
    check_settings(cfg, need_model=not run.checkpoint(0).exists())
    quiet_hub()
    with Searcher(cfg) as searcher:
        run_round(run, cfg, run.next_round(), searcher)
