"""Adaptive entropy control: k moves towards the target and stays in [0, k_max]; the
importance-weighted entropy estimate is unbiased for the training policy."""
from __future__ import annotations

import math

import pytest
import torch

from training.grpo.controller import EntropyController
from training.grpo.loss import clipped_objective


def test_k_rises_when_entropy_is_below_target_and_falls_above():
    c = EntropyController(k=0.3, k_max=1.0, delta=0.05, target=0.3)
    assert c.update(0.1) == pytest.approx(0.35)      # too little entropy: loosen the upper clip
    assert c.update(0.9) == pytest.approx(0.30)      # too much: tighten it
    assert c.update(0.3) == pytest.approx(0.30)      # on target: sign(0) = 0
    assert c.update(float("nan")) == pytest.approx(0.30)


def test_k_stays_within_bounds():
    c = EntropyController(k=0.0, k_max=0.2, delta=0.07, target=0.3)
    assert c.update(5.0) == 0.0                      # cannot go below 0
    seen = [c.update(0.0) for _ in range(10)]
    assert all(0.0 <= k <= 0.2 for k in seen)
    assert seen[-1] == 0.2 and seen[0] == pytest.approx(0.07)
    with pytest.raises(ValueError):
        EntropyController(k=0.5, k_max=0.2)


def test_importance_weighted_entropy_is_unbiased():
    p = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05], dtype=torch.float64)   # training policy
    q = torch.tensor([0.1, 0.2, 0.2, 0.25, 0.25], dtype=torch.float64)   # inference policy (sampled)
    exact = float(-(p * p.log()).sum())
    n = 200_000
    y = torch.multinomial(q, n, replacement=True, generator=torch.Generator().manual_seed(0))
    # the estimate the GRPO step feeds the controller: TokenStats.entropy of the clipped objective
    lt, li = p.log()[y], q.log()[y]
    _, stats = clipped_objective(lt, li, torch.zeros(n, dtype=torch.float64), torch.ones(n, dtype=torch.bool),
                                 0.28, 0.2, 50.0)
    est = stats.entropy
    # the estimator X = -log p(y) p(y)/q(y), y ~ q; its exact variance under q gives the standard
    # error, and 5 standard errors bound a false failure at ~6e-7 (the seed fixes it anyway)
    x = -p.log() * p / q
    sigma = math.sqrt(float((q * x * x).sum() - (q * x).sum() ** 2) / n)
    assert abs(est - exact) < 5 * sigma
    # the unweighted mean of -log p under q (a cross-entropy) is far off: the weight matters
    naive = float(-p.log()[y].mean())
    assert abs(naive - exact) > 50 * sigma

