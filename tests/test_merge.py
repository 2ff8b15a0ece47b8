"""Model merging: elementwise (weighted) mean, dtype kept, mismatches refused."""
from __future__ import annotations

import pytest
import torch

from policy.checkpoint import load_checkpoint, save_checkpoint
from training.merge import merge_checkpoints
from training_fixtures import micro_llama, tok  # noqa: F401  (fixtures)


def saved(tok, path, seed, **kw):
    m = micro_llama(tok, seed=seed, **kw)
    save_checkpoint(m, tok, path)
    return m


def test_merge_is_the_elementwise_mean(tok, tmp_path):
    a, b = saved(tok, tmp_path / "a", 1), saved(tok, tmp_path / "b", 2)
    merge_checkpoints([tmp_path / "a", tmp_path / "b"], tmp_path / "m")
    m, merged_tok, meta = load_checkpoint(tmp_path / "m")
    assert meta["kind"] == "merge"
    sa, sb = a.state_dict(), b.state_dict()
    for k, v in m.state_dict().items():
        assert torch.allclose(v, (sa[k] + sb[k]) / 2, atol=1e-7), k
    assert merged_tok("⊢ x")["input_ids"] == tok("⊢ x")["input_ids"]

    merge_checkpoints([tmp_path / "a", tmp_path / "b"], tmp_path / "w", weights=[3, 1])     # normalised to 3/4, 1/4
    w = load_checkpoint(tmp_path / "w")[0].state_dict()
    k = "model.layers.0.mlp.up_proj.weight"
    assert torch.allclose(w[k], 0.75 * sa[k] + 0.25 * sb[k], atol=1e-7)


def test_merge_keeps_the_dtype(tok, tmp_path):
    for name, seed in (("a", 1), ("b", 2)):
        m = micro_llama(tok, seed=seed).to(torch.bfloat16)
        save_checkpoint(m, tok, tmp_path / name)
    merge_checkpoints([tmp_path / "a", tmp_path / "b"], tmp_path / "m")
    m = load_checkpoint(tmp_path / "m")[0]
    assert next(m.parameters()).dtype == torch.bfloat16


def test_merge_refuses_mismatches(tok, tmp_path):
    saved(tok, tmp_path / "a", 1)
    saved(tok, tmp_path / "wide", 2, hidden=48)
    saved(tok, tmp_path / "deep", 3, layers=3)
    with pytest.raises(ValueError, match="shape"):
        merge_checkpoints([tmp_path / "a", tmp_path / "wide"], tmp_path / "m")
    with pytest.raises(ValueError, match="architecture"):
        merge_checkpoints([tmp_path / "a", tmp_path / "deep"], tmp_path / "m")
    with pytest.raises(FileNotFoundError):
        merge_checkpoints([tmp_path / "a", tmp_path / "missing"], tmp_path / "m")
    with pytest.raises(ValueError, match="weights"):
        merge_checkpoints([tmp_path / "a", tmp_path / "a"], tmp_path / "m", weights=[1])
    assert not (tmp_path / "m").exists()


def test_campaign_round_merges_seed_runs_and_scores_each(tmp_path):
    """`merge: {runs: 2}`: two SFT runs of the round from the same checkpoint with different seeds,
    their average is the round's checkpoint, and all three are scored on the same theorems."""
    import json

    from test_campaign import SMOKE, campaign, write

    cfg = {**SMOKE, "rounds": 1, "resynthesis": {"every": 0}, "merge": {"runs": 2, "eval_limit": 3}}
    run = tmp_path / "run"
    p = campaign(write(tmp_path, cfg), run)
    _, err = p.communicate(timeout=280)
    assert p.returncode == 0, err.decode()[-2000:]
    members = [run / "rounds" / "001" / "merge" / f"run_{i}" for i in range(2)]
    a, b = (load_checkpoint(m)[0].state_dict() for m in members)
    merged = load_checkpoint(run / "checkpoints" / "round_001")[0].state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)           # different seeds, different runs
    for k in merged:
        torch.testing.assert_close(merged[k], (a[k].float() + b[k].float()).div(2).to(merged[k].dtype))
    row = json.loads((run / "metrics.jsonl").read_text().splitlines()[1])
    assert set(row["merge"]) == {"split", "theorems", "run_0", "run_1", "merged"} and row["merge"]["theorems"] == 3
