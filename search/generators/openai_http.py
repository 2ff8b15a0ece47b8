"""`OpenAICompletionsGenerator`: tactics from an OpenAI-compatible `/v1/completions` server
(vLLM `serve`, SGLang), for campaigns whose inference runs on other machines."""
from __future__ import annotations

import time
from typing import Sequence

import httpx

from search.generators.base import PromptFormat, TacticCandidate


class GeneratorServerError(RuntimeError):
    pass


class OpenAICompletionsGenerator:
    def __init__(self, base_url: str, model: str, prompt: PromptFormat | None = None, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 48, seed: int | None = None, timeout: float = 120.0,
                 retries: int = 4, api_key: str | None = None):
        self.url = base_url.rstrip("/") + ("/completions" if base_url.rstrip("/").endswith("/v1") else "/v1/completions")
        self.model, self.prompt = model, prompt or PromptFormat()
        self.temperature, self.top_p, self.max_new_tokens, self.seed = temperature, top_p, max_new_tokens, seed
        self.retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=timeout, headers=headers)

    def generate(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        if not states:
            return []
        body = {
            "model": self.model, "prompt": [self.prompt.prompt(s) for s in states], "n": n,
            "temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_new_tokens,
            "logprobs": 1, "stop": [self.prompt.stop] if self.prompt.stop else None,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        data = self._post(body)
        out: list[list[TacticCandidate]] = [[] for _ in states]
        try:
            for i, choice in enumerate(data["choices"]):
                index = int(choice.get("index", i))
                lps = [lp for lp in ((choice.get("logprobs") or {}).get("token_logprobs") or []) if lp is not None]
                text = self.prompt.postprocess(choice["text"])
                if choice.get("finish_reason") == "length":
                    continue  # cut off by max_tokens: not a whole tactic
                out[index // n].append(TacticCandidate(text, float(sum(lps)), max(len(lps), 1), (), tuple(lps)))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise GeneratorServerError(f"malformed completions response: {str(data)[:300]}") from e
        return out

    def _post(self, body: dict) -> dict:
        delay = 0.5
        for attempt in range(self.retries + 1):
            try:
                r = self.client.post(self.url, json=body)
            except httpx.TransportError as e:
                if attempt == self.retries:
                    raise GeneratorServerError(f"cannot reach {self.url}: {e}") from e
            else:
                if r.status_code < 400:
                    try:
                        return r.json()
                    except ValueError as e:
                        raise GeneratorServerError(f"non-JSON response from {self.url}: {r.text[:200]}") from e
                if r.status_code < 500:
                    raise GeneratorServerError(f"{self.url} refused the request ({r.status_code}): {r.text[:300]}")
                if attempt == self.retries:
                    raise GeneratorServerError(f"{self.url} failed ({r.status_code}): {r.text[:300]}")
            time.sleep(delay)
            delay *= 2
        raise GeneratorServerError("unreachable")
