"""Fixtures for the GRPO tests: a char-level tokenizer, a micro Llama, and a scripted ProofEnv
whose outcome depends only on the first character of a tactic (so random samples from an
untrained model still get meaningful, controllable rewards)."""
from __future__ import annotations

import itertools
from typing import Sequence

import pytest
import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from lean_env.types import EnvFailure, LeanError, ProofFinished, TacticState, Theorem, Verdict

@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Token-by-token sampling of a micro model is dominated by thread hand-offs; with the two
    cores shared by other test processes, one thread is ~10x faster. Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]
CHARS = [chr(c) for c in range(32, 127)] + ["\n", "⊢", "ℕ"]


def char_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {t: i for i, t in enumerate(SPECIALS + CHARS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("(?m)."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>")


def micro_model(tokenizer, seed: int = 0) -> LlamaForCausalLM:
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.eval()
    return model


def theorem(name: str = "t1") -> Theorem:
    return Theorem(name=name, header="", statement=f"theorem {name} : True := by", split="test")


class ScriptedEnv:
    """First char of the tactic decides: in `finish` -> ProofFinished, in `step` -> a new state,
    in `envfail` -> EnvFailure, anything else -> LeanError. `verify_ok` decides verification."""

    def __init__(self, finish: str = "", step: str = "", envfail: str = "", verify_ok: bool = True,
                 start_fails: bool = False):
        self.finish, self.step, self.envfail = set(finish), set(step), set(envfail)
        self.verify_ok, self.start_fails = verify_ok, start_fails
        self.ids = itertools.count()
        self.depth: dict[int, int] = {}
        self.verified: list[list[str]] = []
        self.tactics: list[str] = []

    def _state(self, depth: int) -> TacticState:
        i = next(self.ids)
        self.depth[i] = depth
        return TacticState((f"⊢ goal{depth}",), i)

    async def start(self, t: Theorem):
        return LeanError("bad statement") if self.start_fails else self._state(0)

    async def run_tactic(self, s: TacticState, tactic: str):
        self.tactics.append(tactic)
        c = tactic[:1]
        if c in self.finish:
            return ProofFinished(next(self.ids))
        if c in self.step:
            return self._state(self.depth[s.id] + 1)
        if c in self.envfail:
            return EnvFailure("worker died")
        return LeanError(f"unknown tactic {tactic!r}")

    async def verify(self, t: Theorem, tactics: Sequence[str]) -> Verdict:
        self.verified.append(list(tactics))
        return Verdict(ok=self.verify_ok, reasons=() if self.verify_ok else ("rejected",))

    async def close(self) -> None:
        pass


PRINTABLE = "".join(CHARS)
