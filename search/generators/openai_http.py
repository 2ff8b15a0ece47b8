"""`OpenAICompletionsGenerator`: tactics from an OpenAI-compatible `/v1/completions` server
(vLLM `serve`, SGLang), for campaigns whose inference runs on other machines.

Choices come back prompt-major: choice `index` = prompt_index * n + j. A server may leave the
stop/EOS token out of `token_logprobs`; we sum what is there and count it as `num_tokens`.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import httpx

from search.generators.base import PromptFormat, TacticCandidate
from search.generators.checks import check_request, check_sampling_args
from search.generators.tokens import encode_prompt

RETRYABLE_STATUS = {408, 429}  # plus every 5xx: the server is busy or restarting, not refusing us


class GeneratorServerError(RuntimeError):
    """The server could not be reached, refused the request, or answered something unreadable."""


class OpenAICompletionsGenerator:
    """Batched `/v1/completions` client.

    With a `tokenizer` the prompts are sent as token ids built by `encode_prompt` (BOS included),
    which is exactly what the model was trained on; without one the server tokenises the text and
    whether it adds BOS is up to its tokenizer config.
    """

    def __init__(self, base_url: str, model: str, prompt: PromptFormat | None = None, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 48, seed: int | None = None, timeout: float = 120.0,
                 retries: int = 4, backoff: float = 0.5, api_key: str | None = None, tokenizer: Any = None):
        check_sampling_args(temperature, top_p, max_new_tokens)
        root = base_url.rstrip("/")
        self.url = root + ("/completions" if root.endswith("/v1") else "/v1/completions")
        self.model, self.prompt, self.tokenizer = model, prompt or PromptFormat(), tokenizer
        self.temperature, self.top_p, self.max_new_tokens, self.seed = temperature, top_p, max_new_tokens, seed
        self.retries, self.backoff = retries, backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=timeout, headers=headers)

    def close(self) -> None:
        self.client.close()

    def request_body(self, states: Sequence[str], n: int) -> dict:
        prompts = [self.prompt.prompt(s) for s in states]
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": [encode_prompt(self.tokenizer, p) for p in prompts] if self.tokenizer is not None else prompts,
            "n": n, "temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_new_tokens,
            "logprobs": 1,
        }
        if self.prompt.stop:
            body["stop"] = [self.prompt.stop]
        if self.seed is not None:
            body["seed"] = self.seed
        return body

    def generate(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        check_request(states, n)
        if not states:
            return []
        data = self._post(self.request_body(states, n))
        try:
            return self._parse(data, len(states), n)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            raise GeneratorServerError(f"malformed completions response ({e}): {str(data)[:300]}") from e

    def _parse(self, data: dict, num_states: int, n: int) -> list[list[TacticCandidate]]:
        out: list[list[TacticCandidate]] = [[] for _ in range(num_states)]
        choices = data["choices"]
        if not isinstance(choices, list):
            raise TypeError("'choices' is not a list")
        for i, choice in enumerate(choices):
            index = int(choice.get("index", i))
            if not 0 <= index < num_states * n:
                raise IndexError(f"choice index {index} outside 0..{num_states * n - 1}")
            if choice.get("finish_reason") == "length":
                continue  # cut off by max_tokens: not a whole tactic
            text = choice["text"]
            if not isinstance(text, str):
                raise TypeError("choice 'text' is not a string")
            lps = [float(lp) for lp in ((choice.get("logprobs") or {}).get("token_logprobs") or []) if lp is not None]
            out[index // n].append(TacticCandidate(self.prompt.postprocess(text), sum(lps), max(len(lps), 1),
                                                   (), tuple(lps)))
        return out

    def _post(self, body: dict) -> dict:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                r = self.client.post(self.url, json=body)
            except httpx.TransportError as e:  # connection refused/reset, timeouts
                if last:
                    raise GeneratorServerError(f"cannot reach {self.url} after {attempt + 1} tries: {e!r}") from e
            else:
                if r.status_code < 400:
                    try:
                        data = r.json()
                    except ValueError as e:
                        raise GeneratorServerError(f"non-JSON response from {self.url}: {r.text[:200]}") from e
                    if not isinstance(data, dict):
                        raise GeneratorServerError(f"malformed completions response: {str(data)[:300]}")
                    return data
                if r.status_code < 500 and r.status_code not in RETRYABLE_STATUS:
                    raise GeneratorServerError(f"{self.url} refused the request ({r.status_code}): {r.text[:300]}")
                if last:
                    raise GeneratorServerError(f"{self.url} failed ({r.status_code}) after {attempt + 1} tries: "
                                               f"{r.text[:300]}")
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable: the loop returns or raises")
