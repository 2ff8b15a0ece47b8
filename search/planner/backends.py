"""Planners: what writes a plan. One interface, `Planner.plan(request) -> str` (the raw reply;
`plan.parse_plan` reads it, in one place), and four backends:

    openai    an OpenAI-compatible /v1/chat/completions endpoint (a general reasoning LLM, as
              BFS-Prover-V2 uses; vLLM serve, SGLang, any hosted API)
    hf        a local Hugging Face causal LM (chat template if it has one), sampled in-process
    file      plans written beforehand (JSON Lines {"id", "plan": [lines]}, e.g. an offline LLM batch),
              or learned from proofs ({"id", "tactics"}: seed proofs, an evaluation's proofs.jsonl)
    embedded  for the embedded fragment: solves the linear equations among the hypotheses and
              plans one `have` per determined unknown (a scripted stand-in for the LLM)
    draft     the `have` chain of a whole-proof model's draft (search/planner/draft.py)

Prompts are files (`prompts/system.txt`, `plan.txt`, `replan.txt`), with `{statement}`, `{goal}`,
`{prefix}` and `{feedback}` placeholders; `PlannerConfig.prompts` points at a directory of your
own. Planners are synchronous, like tactic generators; the driver runs them in a thread.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Optional, Sequence

from pydantic import Field

from lean_env.config import config_record, load_record
from search.planner.plan import Planner, PlanRequest
from policy.params import request_seed

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"


class PlannerServerError(RuntimeError):
    """The planner endpoint could not be reached, refused the request, or answered something unreadable."""


@dataclass(frozen=True)
class PromptSet:
    system: str
    plan: str
    replan: str

    @classmethod
    def load(cls, directory: str | Path | None = None) -> "PromptSet":
        d = Path(directory) if directory is not None else PROMPTS_DIR
        texts = {}
        for name in ("system", "plan", "replan"):
            path = d / f"{name}.txt"
            if not path.is_file():
                raise FileNotFoundError(f"planner prompt missing: {path}")
            texts[name] = path.read_text(encoding="utf-8")
        for name, needed in (("plan", ("{statement}", "{goal}")), ("replan", ("{statement}", "{goal}", "{prefix}"))):
            missing = [p for p in needed if p not in texts[name]]
            if missing:
                raise ValueError(f"planner prompt {d / (name + '.txt')} lacks {', '.join(missing)}")
        return cls(**texts)

    def messages(self, req: PlanRequest) -> list[dict[str, str]]:
        fields = {"statement": req.theorem.statement, "goal": req.goal,
                  "prefix": "\n".join(s.have() for s in req.prefix) or "(none)", "feedback": req.feedback or "(none)"}
        user = (self.replan if req.replan else self.plan).format(**fields)
        return [{"role": "system", "content": self.system.strip()}, {"role": "user", "content": user}]


class OpenAIChatPlanner:
    """`/v1/chat/completions` client: one plan per call, sampled at `temperature` (BFS-Prover-V2: 1.0)."""

    def __init__(self, base_url: str, model: str, prompts: PromptSet | None = None, temperature: float = 1.0,
                 max_tokens: int = 1024, timeout: float = 120.0, retries: int = 2, backoff: float = 0.5,
                 api_key: str | None = None, seed: int = 0):
        import httpx

        root = base_url.rstrip("/")
        self.url = root + ("/chat/completions" if root.endswith("/v1") else "/v1/chat/completions")
        self.model, self.prompts = model, prompts or PromptSet.load()
        self.temperature, self.max_tokens, self.retries, self.backoff = temperature, max_tokens, retries, backoff
        self.seed = seed
        self.client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {api_key}"} if api_key else {})

    def close(self) -> None:
        self.client.close()

    def plan(self, request: PlanRequest) -> str:
        body = {"model": self.model, "messages": self.prompts.messages(request), "temperature": self.temperature,
                "max_tokens": self.max_tokens, "n": 1, "seed": request_seed(self.seed, request.identity)}
        data = self._post(body)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as e:
            raise PlannerServerError(f"malformed chat completions response from {self.url}: {str(data)[:300]}") from e
        if not isinstance(content, str):
            raise PlannerServerError(f"chat completions response without text content: {str(data)[:300]}")
        return content

    def _post(self, body: dict) -> dict:
        from policy.openai_http import post_json

        return post_json(self.client, self.url, body, retries=self.retries, backoff=self.backoff,
                         error=PlannerServerError, who=f"the planner at {self.url}")


class HFPlanner:
    """A local causal LM (a Hugging Face directory or hub id) sampled with `transformers`."""

    def __init__(self, model: str, prompts: PromptSet | None = None, temperature: float = 1.0,
                 max_tokens: int = 512, device: str = "cpu", seed: int = 0):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForCausalLM.from_pretrained(model).to(device).eval()
        self.prompts, self.temperature, self.max_tokens, self.device = prompts or PromptSet.load(), temperature, max_tokens, device
        self.seed = seed

    def prompt_text(self, request: PlanRequest) -> str:
        messages = self.prompts.messages(request)
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(m["content"] for m in messages) + "\n\n"

    def plan(self, request: PlanRequest) -> str:
        import torch

        ids = self.tokenizer(self.prompt_text(request), return_tensors="pt").to(self.device)
        torch.manual_seed(request_seed(self.seed, request.identity))
        with torch.no_grad():
            out = self.model.generate(**ids, do_sample=self.temperature > 0, temperature=self.temperature or None,
                                      max_new_tokens=self.max_tokens, pad_token_id=self.tokenizer.eos_token_id)
        return self.tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


class ScriptedPlanner:
    """Canned replies: `replies` maps a theorem id to the replies of successive calls (the last
    one repeats), or is a function of the request. Theorems without replies get a non-plan."""

    def __init__(self, replies: Mapping[str, Sequence[str]] | Callable[[PlanRequest], str]):
        self.replies = replies
        self.calls: list[PlanRequest] = []

    @classmethod
    def from_jsonl(cls, path: str | Path) -> "ScriptedPlanner":
        """Plans written beforehand, rows {"id", "plan": ["have ...", ...]} (several rows per id are
        successive plans, for regeneration and replanning), or plans learned from proofs, rows
        {"id", "tactics": [...]} (a `proofs.jsonl` of an evaluation, the seed proofs): the proof's
        `have NAME : STATEMENT := ...` steps, without their proofs."""
        from lean_env.jsonl import read_jsonl

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"plans file not found: {path}")
        replies: dict[str, list[str]] = {}
        for row in read_jsonl(path):
            lines = row.get("plan", row.get("tactics"))
            if not isinstance(row.get("id"), str) or not isinstance(lines, list):
                raise ValueError(f"{path}: every row needs an 'id' and a 'plan' (or 'tactics') list, got {str(row)[:200]}")
            if "plan" not in row:   # a proof: its top-level `have NAME : ...` steps
                lines = [t.split("\n", 1)[0] for t in map(str, lines) if re.match(r"have [^\s:]+ : ", t)]
                if not lines:
                    continue
            replies.setdefault(row["id"], []).append("\n".join(map(str, lines)))
        return cls(replies)

    def plan(self, request: PlanRequest) -> str:
        self.calls.append(request)
        if callable(self.replies):
            return self.replies(request)
        seq = self.replies.get(request.theorem.id, ())
        if not seq:
            return f"(no plan for {request.theorem.id})"
        made = sum(c.theorem.id == request.theorem.id for c in self.calls) - 1
        return seq[min(made, len(seq) - 1)]


# ---------------------------------------------------------------- the embedded planner

_TOKEN = re.compile(r"\s*(\d+|[^\W\d][\w'₀-₉]*|[-+*()])")


def _linear(text: str, variables: set[str]) -> dict[str, Fraction] | None:
    """`text` as {variable: coefficient, "": constant}, or None if it is not linear in `variables`."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            return None
        tokens.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    out, i = None, 0

    def expr() -> dict[str, Fraction] | None:
        nonlocal i
        acc: dict[str, Fraction] = {}
        sign = 1
        while True:
            if i < len(tokens) and tokens[i] in "+-":
                sign = -sign if tokens[i] == "-" else sign
                i += 1
                continue
            t = term()
            if t is None:
                return None
            for k, v in t.items():
                acc[k] = acc.get(k, Fraction(0)) + sign * v
            if i < len(tokens) and tokens[i] in "+-":
                sign = -1 if tokens[i] == "-" else 1
                i += 1
            else:
                return acc

    def term() -> dict[str, Fraction] | None:
        nonlocal i
        f = factor()
        while f is not None and i < len(tokens) and tokens[i] == "*":
            i += 1
            g = factor()
            if g is None:
                return None
            if set(f) - {""} and set(g) - {""}:
                return None   # a product of unknowns: not linear
            const, other = (f, g) if not set(f) - {""} else (g, f)
            c = const.get("", Fraction(0))
            f = {k: c * v for k, v in other.items()}
        return f

    def factor() -> dict[str, Fraction] | None:
        nonlocal i
        if i >= len(tokens):
            return None
        t = tokens[i]
        i += 1
        if t.isdigit():
            return {"": Fraction(int(t))}
        if t == "(":
            e = expr()
            if e is None or i >= len(tokens) or tokens[i] != ")":
                return None
            i += 1
            return e
        return {t: Fraction(1)} if t in variables else None

    out = expr()
    return out if out is not None and i == len(tokens) else None


def solve_linear(goal_state: str) -> list[tuple[str, int]]:
    """(variable, value) for each ℕ/ℤ unknown of the first goal that its linear equations
    determine (Gauss-Jordan over the rationals; integral, and non-negative at ℕ), in binder order."""
    lines = goal_state.split("\n\n", 1)[0].split("\n")
    types: dict[str, str] = {}
    eqs: list[dict[str, Fraction]] = []
    for line in lines:
        if line.startswith("⊢") or " : " not in line:
            continue
        names, ty = line.split(" : ", 1)
        if ty.strip() in ("ℕ", "ℤ"):
            types.update({n: ty.strip() for n in names.split()})
    order = list(types)
    for line in lines:
        if line.startswith("⊢") or " : " not in line:
            continue
        body = line.split(" : ", 1)[1]
        if body.count("=") != 1 or any(op in body for op in ("≠", "≤", "≥", "<", ">", "∣", "/", "%", "^")):
            continue
        lhs, rhs = body.split("=")
        a, b = _linear(lhs, set(types)), _linear(rhs, set(types))
        if a is None or b is None:
            continue
        eqs.append({k: a.get(k, Fraction(0)) - b.get(k, Fraction(0)) for k in set(a) | set(b)})
    rows = [[e.get(v, Fraction(0)) for v in order] + [-e.get("", Fraction(0))] for e in eqs]
    pivots: list[int] = []
    r = 0
    for c in range(len(order)):
        p = next((k for k in range(r, len(rows)) if rows[k][c] != 0), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        rows[r] = [x / rows[r][c] for x in rows[r]]
        for k in range(len(rows)):
            if k != r and rows[k][c] != 0:
                rows[k] = [x - rows[k][c] * y for x, y in zip(rows[k], rows[r])]
        pivots.append(c)
        r += 1
    out = []
    for k, c in enumerate(pivots):
        if any(rows[k][j] != 0 for j in range(len(order)) if j != c):
            continue   # the row still involves a free unknown
        v = rows[k][-1]
        if v.denominator == 1 and (types[order[c]] == "ℤ" or v >= 0):
            out.append((order[c], int(v)))
    return sorted(out, key=lambda p: order.index(p[0]))


class EmbeddedPlanner:
    """The embedded world's planner: one `have eI : x = v` per unknown that the hypotheses'
    linear equations determine (the shape of the `have` steps in the seed proofs), and no plan
    when they determine none. A replan keeps the prefix and re-offers the unknowns not yet in it."""

    def plan(self, request: PlanRequest) -> str:
        values = solve_linear(request.goal)
        if not values:
            return "No plan: the hypotheses determine no unknown."
        done = {s.statement for s in request.prefix}
        lines = [s.have() for s in request.prefix]
        for i, (name, value) in enumerate(values):
            if f"{name} = {value}" not in done:
                lines.append(f"have e{i} : {name} = {value}")
        return "```lean\n" + "\n".join(lines) + "\n```"


# ---------------------------------------------------------------- config

@config_record(frozen=True)
class PlannerConfig:
    """The YAML `planner:` section (and what `prover eval --planner` builds): which planner, and
    how the planner-driven search uses it."""

    kind: Literal["openai", "hf", "file", "embedded", "draft"] = "embedded"
    model: Optional[str] = None            # openai: served name; hf: a model dir or hub id; draft: a model dir
    preset: Optional[str] = None           # draft: the whole-proof preset (default tiny-whole)
    base_url: Optional[str] = None         # openai
    api_key_env: Optional[str] = None      # openai: the environment variable holding the key
    path: Optional[str] = None             # file: the plans JSONL
    prompts: Optional[str] = None          # a directory with system.txt, plan.txt, replan.txt
    temperature: float = Field(1.0, ge=0)
    max_tokens: int = Field(1024, ge=1)
    device: Optional[str] = None           # hf
    max_regenerations: int = Field(3, ge=0)    # an invalid plan is redrawn up to this many times
    replan: bool = False                   # online replanning when a phase exhausts its budget
    max_replans: int = Field(2, ge=0)
    searchers: int = Field(1, ge=1)        # searchers per attempt sharing one progress store
    phase_expansions: Optional[int] = Field(None, ge=1)  # per phase (default: the budget over steps + 1)
    fallback: bool = True                  # without a valid plan, or stuck, search the theorem plainly

    def __post_init__(self) -> None:
        """Every field is read by the kind chosen; a missing or malformed prompt fails here."""
        k = self.kind
        unused = {"model": k not in ("openai", "hf", "draft"), "preset": k != "draft", "base_url": k != "openai",
                  "api_key_env": k != "openai",
                  "path": k != "file", "device": k != "hf", "prompts": k not in ("openai", "hf")}
        bad = [n for n, refused in unused.items() if refused and getattr(self, n) is not None]
        if bad:
            raise ValueError(f"planner kind {k!r} does not use {', '.join(bad)}")
        if k == "openai" and not (self.base_url and self.model):
            raise ValueError("planner kind 'openai' needs base_url and model")
        if k in ("hf", "draft") and not self.model:
            raise ValueError(f"planner kind {k!r} needs model (a local directory or hub id)")
        if k == "file" and not self.path:
            raise ValueError("planner kind 'file' needs path (a JSONL of {id, plan})")
        if self.prompts is not None:
            PromptSet.load(self.prompts)


def make_planner(cfg: PlannerConfig, seed: int = 0) -> Planner:
    import os

    if cfg.kind == "embedded":
        return EmbeddedPlanner()
    if cfg.kind == "file":
        return ScriptedPlanner.from_jsonl(cfg.path)
    if cfg.kind == "draft":
        from search.planner.draft import make_draft_planner

        return make_draft_planner(cfg.model, cfg.preset, cfg.temperature, cfg.max_tokens, seed)
    prompts = PromptSet.load(cfg.prompts)
    if cfg.kind == "openai":
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        if cfg.api_key_env and not key:
            raise ValueError(f"planner.api_key_env: ${cfg.api_key_env} is not set")
        return OpenAIChatPlanner(cfg.base_url, cfg.model, prompts, cfg.temperature, cfg.max_tokens, api_key=key, seed=seed)
    return HFPlanner(cfg.model, prompts, cfg.temperature, cfg.max_tokens, device=cfg.device or "cpu", seed=seed)


def planner_from_arg(arg: str, **fields: Any) -> PlannerConfig:
    """`--planner`: a kind name, or a YAML file with a `planner:` section (or the section alone)."""
    if arg.endswith((".yaml", ".yml")):
        import yaml

        path = Path(arg)
        if not path.is_file():
            raise FileNotFoundError(f"planner config not found: {path}")
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        section = raw.get("planner", raw) if isinstance(raw, dict) else raw
    else:
        section = {"kind": arg, **{k: v for k, v in fields.items() if v is not None}}
    return load_record(PlannerConfig, section, where="planner", source=arg if arg.endswith((".yaml", ".yml")) else "")


__all__ = ["PlannerServerError", "PromptSet", "OpenAIChatPlanner", "HFPlanner",
           "ScriptedPlanner", "EmbeddedPlanner", "solve_linear", "PlannerConfig", "make_planner", "planner_from_arg"]
