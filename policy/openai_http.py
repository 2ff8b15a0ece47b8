"""`OpenAICompletionsGenerator`: tactics from an OpenAI-compatible `/v1/completions` server
(vLLM `serve`, SGLang), for campaigns whose inference runs on other machines.

Each goal state goes in its own request, with the seed `request_seed` gives its key (the
completions API takes one seed per request, so states sharing a request would share a seed and
their samples would depend on the batch); up to `batch_size` requests are in flight at once, and
the server batches them. A server may leave the stop/EOS token out of `token_logprobs`; we sum
what is there and count it as `num_tokens`.
"""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import httpx

from policy.base import PromptFormat, TacticCandidate
from policy.checks import check_request
from policy.params import SamplingParams, request_seed
from policy.tokens import encode_prompt

RETRYABLE_STATUS = {408, 429}  # plus every 5xx: the server is busy or restarting, not refusing us


class GeneratorServerError(RuntimeError):
    """The server could not be reached, refused the request, or answered something unreadable."""


class OpenAICompletionsGenerator:
    """Batched `/v1/completions` client.

    With a `tokenizer` the prompts are sent as token ids built by `encode_prompt` (BOS included),
    which is exactly what the model was trained on; without one the server tokenises the text and
    whether it adds BOS is up to its tokenizer config.
    """

    def __init__(self, base_url: str, model: str, params: SamplingParams = SamplingParams(),
                 prompt: PromptFormat | None = None, tokenizer: Any = None, batch_size: int = 256,
                 timeout: float = 120.0, retries: int = 4, backoff: float = 0.5, api_key: str | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size (requests in flight) must be >= 1, got {batch_size}")
        root = base_url.rstrip("/")
        self.url = root + ("/completions" if root.endswith("/v1") else "/v1/completions")
        self.model, self.params, self.prompt, self.tokenizer = model, params, prompt or PromptFormat(), tokenizer
        self.batch_size, self.retries, self.backoff = batch_size, retries, backoff
        self.dropped: Counter[str] = Counter()   # samples that gave no tactic, by reason
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=timeout, headers=headers)

    def close(self) -> None:
        self.client.close()

    def request_body(self, state: str, n: int, key: str | None = None) -> dict:
        """The completions request for one goal state, seeded from its key (default: the state)."""
        prompt = self.prompt.prompt(state, self.tokenizer)
        body: dict[str, Any] = {
            "model": self.model,
            # a list of one prompt: a bare list of token ids could be read as many prompts
            "prompt": [encode_prompt(self.tokenizer, prompt) if self.tokenizer is not None else prompt],
            "n": n, "temperature": self.params.temperature, "top_p": self.params.top_p,
            "max_tokens": self.params.max_tokens, "logprobs": 1,
            "seed": request_seed(self.params.seed, state if key is None else key),
        }
        if self.params.stop:
            body["stop"] = list(self.params.stop)
        if self.params.presence_penalty:
            body["presence_penalty"] = self.params.presence_penalty
        if self.params.beam:
            body.update(use_beam_search=True, length_penalty=self.params.length_penalty)   # vLLM serve's extension
        return body

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> list[list[TacticCandidate]]:
        check_request(states, n, keys)
        bodies = [self.request_body(s, n, None if keys is None else keys[i]) for i, s in enumerate(states)]
        if len(bodies) <= 1:
            answers = [self._post(b) for b in bodies]
        else:
            with ThreadPoolExecutor(min(self.batch_size, len(bodies))) as pool:   # httpx.Client is thread-safe
                answers = list(pool.map(self._post, bodies))
        out: list[list[TacticCandidate]] = []
        for data in answers:
            try:
                out.extend(self._parse(data, 1, n))
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
                raise GeneratorServerError(f"malformed completions response ({e}): {str(data)[:300]}") from e
        return out

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
                self.dropped["max_tokens"] += 1   # cut off by max_tokens: not a whole tactic
                continue
            text = choice["text"]
            if not isinstance(text, str):
                raise TypeError("choice 'text' is not a string")
            lps = [float(lp) for lp in ((choice.get("logprobs") or {}).get("token_logprobs") or []) if lp is not None]
            tactic = self.prompt.postprocess(text, self.params.stop)
            why = self.prompt.rejects(tactic)
            if why:
                self.dropped[why] += 1
                continue
            out[index // n].append(TacticCandidate(tactic, sum(lps), max(len(lps), 1), (), tuple(lps)))
        return out

    def _post(self, body: dict) -> dict:
        return post_json(self.client, self.url, body, retries=self.retries, backoff=self.backoff,
                         error=GeneratorServerError, who=self.url)


def post_json(client, url: str, body: dict, *, retries: int, backoff: float, error: type[Exception],
              who: str) -> dict:
    """POST `body` and return the JSON object the server answers. Connection errors, 408/429 and
    5xx (busy or restarting) are retried with exponential backoff; any other 4xx is our request's
    fault and is not. Every failure is an `error` naming `who` (shared by the tactic generator and
    the planner's chat client)."""
    for attempt in range(retries + 1):
        last = attempt == retries
        try:
            r = client.post(url, json=body)
        except httpx.TransportError as e:  # connection refused/reset, timeouts
            if last:
                raise error(f"cannot reach {who} after {attempt + 1} tries: {e!r}") from e
        else:
            if r.status_code < 400:
                try:
                    data = r.json()
                except ValueError as e:
                    raise error(f"non-JSON response from {who}: {r.text[:200]}") from e
                if not isinstance(data, dict):
                    raise error(f"malformed response from {who}: {str(data)[:300]}")
                return data
            if r.status_code < 500 and r.status_code not in RETRYABLE_STATUS:
                raise error(f"{who} answered {r.status_code} (not retried): {r.text[:300]}")
            if last:
                raise error(f"{who} answered {r.status_code} after {attempt + 1} tries: {r.text[:300]}")
        time.sleep(backoff * 2 ** attempt)
    raise AssertionError("unreachable: the loop returns or raises")
