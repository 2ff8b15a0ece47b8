"""Whole-proof attempts with Lean-error repair: the mode DeepSeek-Prover, Goedel-Prover-V2 and
Kimina-Prover are run in, as one attempt of the pass@k scheduler (a `search_fn`, like the planner).

One attempt: sample a whole proof from the preset's prompt, take the proof out of the output as its
authors do (`policy.presets.extract_proof`), put the benchmark statement back (`split_full_proof`:
any change to it is statement tampering and never reaches Lean), verify it with `env.verify` (the
whole-proof verification every mode uses), and, up to `repair_rounds` times, show the model Lean's
errors in its authors' repair format and verify the new proof. A repair prompt is built from the
theorem's header and statement, the model's own outputs and the environment's messages only: the
reference solution is never at hand here.

Lean's errors and the goal before them come from replaying the draft's top-level tactics in the
environment (`diagnose`): every `ProofEnv` can do that, and it gives the goal state before the
failing tactic, which Kimina's error-fix turns and DeepSeek-Prover-V1.5's truncate-and-resume need.

Repair formats, as each model's inference code builds them (`REPAIR_FORMAT` maps a preset to one):
- goedel (Goedel-Prover-V2 `src/utils.py`, `get_error_str` and `DeepSeekCoTHandler.
  generate_correction_prompt`, read at sean-lamont/Goedel-Prover-V2@4e6bda0c): the conversation
  goes on with the model's previous answer and a user turn holding at most 8 errors, each the code
  from 4 lines before to 1 line after with the error span marked `<error></error>`. DeepSeek-Prover-V2
  published no repair format; Goedel's handler for DeepSeek-V2-format models is this one.
- kimina (MoonshotAI/Kimina-Prover-Preview@d31a49e4 `kimina_prover_demo/error_fix.py`, and
  `utils.py` `create_tool_message` @3c46bc0a): one error-fix user turn with at most 3 errors, each
  "Goals state before error position", the message and a numbered snippet (2 lines before, 2 after,
  the error line marked `>`).
- resume (DeepSeek-Prover-V1.5@2c4ba911 `prover/lean/proof.py` `Proof.segmentation`, the prompts of
  its RMaxTS): no error text; the proof is cut before its first error and the model continues the
  prompt + the good prefix + a `/- tactic state: ... -/` comment of the goal there.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Awaitable, Callable, Literal, Optional, Sequence

from pydantic import Field

from lean_env.base import ProofEnv, release
from lean_env.config import config_record
from lean_env.types import EnvFailure, ProofFinished, TacticState, Theorem, Verdict
from lean_env.verify import build_proof_text, split_full_proof
from policy.base import PromptFormat, PromptInput
from policy.presets import Preset, extract_proof, get_preset
from search.records import AttemptRecord, Failure

Propose = Callable[[str, int], Awaitable[Sequence[Any]]]

REPAIR_FORMAT = {"deepseek-prover-v1.5": "resume", "deepseek-prover-v2": "goedel", "goedel-prover-v2": "goedel",
                 "kimina-prover": "kimina", "tiny-whole": "resume"}
GOEDEL_MAX_ERRORS = 8      # get_error_str(..., error_thres=True)
KIMINA_MAX_ERRORS = 3      # filter_error_messages: error_messages[:3]


@config_record(frozen=True)
class WholeProofConfig:
    """`repair_rounds`: error-fix turns after the first proof (0: plain whole-proof sampling);
    `repair_format`: goedel | kimina | resume (default: the preset's, `REPAIR_FORMAT`);
    `max_tokens`: the generator's limit, counted for a sample it dropped for running past it."""

    repair_rounds: int = Field(0, ge=0)
    repair_format: Optional[Literal["goedel", "kimina", "resume"]] = None
    max_tokens: int = Field(0, ge=0)


@dataclass
class LeanErrorAt:
    """One error in the checked code (header + proof text): Lean's positions, lines 1-based and
    columns 0-based (the REPL's `pos`/`endPos`); `line` 0 when the error has no position."""

    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    goal_before: str | None = None


@dataclass
class Diagnosis:
    """A failed draft replayed tactic by tactic: its top-level tactics, how many ran cleanly before
    the first failure (`good`), the goal state there (`state`; None when the statement did not
    start), and the errors found."""

    tactics: list[str]
    good: int
    state: TacticState | None
    errors: list[LeanErrorAt]
    root: TacticState | None = field(default=None, repr=False)


def top_level_tactics(theorem: Theorem, tactics: Sequence[str]) -> list[str]:
    """The proof's top-level tactics, each with its deeper-indented continuation lines (a `·` block,
    a wrapped argument list), from the text verification checks; checking them gives the same text."""
    text = build_proof_text(theorem, tactics)
    body = text.split("\n")[theorem.statement.rstrip().count("\n") + 1:]
    groups: list[list[str]] = []
    for line in body:
        inner = line[2:] if line.startswith("  ") else line
        if groups and (not inner.strip() or inner[0].isspace()):
            groups[-1].append(inner)
        elif inner.strip():
            groups.append([inner])
    return ["\n".join(g).rstrip() for g in groups]


def _code_lines_before(theorem: Theorem) -> int:
    return theorem.header.count("\n")


async def diagnose(env: ProofEnv, theorem: Theorem, tactics: Sequence[str], verdict: Verdict | None = None,
                   keep_root: bool = False) -> Diagnosis:
    """Replay `tactics` (a failed proof) from the statement: the first tactic Lean rejects is the
    error, marked on its lines of `theorem.header + build_proof_text(theorem, tops)`, with the goal
    before it. Tactics that all run but leave goals give Lean's "unsolved goals" at the `by`; a
    proof that closes in tactic mode but failed verification gives the verdict's reasons, unplaced.
    With `keep_root` the caller releases `diagnosis.root` (the hybrid searches from its states)."""
    tops = top_level_tactics(theorem, tactics) if tactics else []
    root = await _call(env.start(theorem))
    if not isinstance(root, TacticState):
        return Diagnosis(tops, 0, None, [LeanErrorAt(0, 0, 0, 0, getattr(root, "message", str(root)))])
    head = _code_lines_before(theorem)
    state, errors, good = root, [], len(tops)
    try:
        for i, tac in enumerate(tops):
            before = build_proof_text(theorem, tops[:i]).count("\n") + head + 2
            after = build_proof_text(theorem, tops[: i + 1]).count("\n") + head + 1
            last = tac.split("\n")[-1]
            span = (before, 2, after, 2 + len(last))
            if state is None:   # goals were closed by an earlier tactic
                errors.append(LeanErrorAt(*span, "no goals to be proved"))
                good = i
                break
            res = await _call(env.run_tactic(state, tac))
            if isinstance(res, TacticState):
                state = res
            elif isinstance(res, ProofFinished):
                state = None
            else:
                errors.append(LeanErrorAt(*span, getattr(res, "message", "") or type(res).__name__, state.pp))
                good = i
                break
        else:
            if state is not None:   # Lean reports the goals left at the `by`
                stmt = theorem.statement.rstrip().split("\n")
                line = head + len(stmt)
                col = stmt[-1].rfind("by")
                errors.append(LeanErrorAt(line, col, line, col + 2, f"unsolved goals\n{state.pp}", state.pp))
            elif verdict is not None and not verdict.ok:
                errors.extend(LeanErrorAt(0, 0, 0, 0, r) for r in verdict.reasons)
    finally:
        if not keep_root:
            await release(env, root)
    return Diagnosis(tops, good, state, errors, root if keep_root else None)


async def _call(aw: Awaitable) -> Any:
    try:
        return await aw
    except Exception as e:   # environments should not raise; one that does is a failure
        return EnvFailure(f"{type(e).__name__}: {e}")


# ---------------------------------------------------------------- the authors' error formats
def goedel_error_str(code: str, errors: Sequence[LeanErrorAt]) -> str:
    """Goedel-Prover-V2's `get_error_str(code, errors, error_thres=True)`: at most 8 errors, each
    4 lines of context before, the span marked `<error></error>`, one line after."""
    lines = code.split("\n")
    out = ""
    placed = [e for e in errors]
    for i, e in enumerate(placed[:GOEDEL_MAX_ERRORS]):
        out += f"\nError {i + 1}:\n"
        if e.line <= 0:
            out += f"\nError Message: {e.message}\n"
            continue
        s, sc, t, tc = e.line - 1, e.column, e.end_line - 1, e.end_column
        out += "\nCorresponding Code:\n```lean4\n"
        snippet = "".join(f"{lines[s + k]}\n" for k in range(-4, 0) if s + k >= 0)
        if s != t:
            snippet += lines[s][:sc] + "<error>" + lines[s][sc:] + "\n"
            for j in range(s + 1, min(t, s + 6)):
                snippet += f"{lines[j]}\n"
            if t > s + 6:
                snippet += "\n" + " " * (len(lines[t - 1]) - len(lines[t - 1].lstrip(" "))) + "... --[Truncated]-- ...\n"
            snippet += lines[t][:tc] + "</error>" + lines[t][tc:] + "\n"
        else:
            snippet += lines[s][:sc] + "<error>" + lines[s][sc:tc] + "</error>" + lines[s][tc:] + "\n"
        if t + 1 < len(lines):
            snippet += f"{lines[t + 1]}\n"
        out += snippet + "\n```\n" + f"\nError Message: {e.message}\n"
    if len(placed) > GOEDEL_MAX_ERRORS:
        out += f"\n... [Omitted {len(placed) - GOEDEL_MAX_ERRORS} more errors] ...\n"
    return out


def goedel_feedback(round_: int, code: str, errors: Sequence[LeanErrorAt]) -> str:
    """The user turn of Goedel-Prover-V2's correction round `round_` (1 = the first correction)."""
    return (f"The proof (Round {round_ - 1}) is not correct. Following is the compilation error message, where we "
            f"use <error></error> to signal the position of the error.\n\n{goedel_error_str(code, errors)}"
            "\n\nBefore producing the Lean 4 code to formally prove the given theorem, provide a detailed analysis "
            "of the error message.")


def kimina_feedback(code: str, errors: Sequence[LeanErrorAt]) -> str:
    """Kimina-Prover's `create_tool_message`: the code's lines after its `import` lines, numbered
    from there as its snippet numbers them."""
    lines = code.strip().split("\n")
    k = 0
    while k < len(lines) and lines[k].startswith("import"):
        k += 1
    body = lines[k:]
    shift = len(code) - len(code.lstrip("\n"))   # strip() drops leading blank lines the positions count
    out = ""
    for i, e in enumerate(errors[:KIMINA_MAX_ERRORS], 1):
        out += f"# Error {i}:\n"
        if e.goal_before:
            out += f"Goals state before error position: \n{e.goal_before}\n\n"
        out += f"Error message: \n{e.message.strip()}\n\n"
        if e.line > 0:
            n = e.line - 1 - shift - k
            snippet = "```lean4\n" + "".join(f"{ln + 1:03d}{' >' if ln == n else '  '}| {body[ln]}\n"
                                            for ln in range(max(0, n - 2), min(len(body), n + 3)))
            out += f"Lean 4 code snippet with error:\n{snippet}```\n"
    return out


def tactic_state_comment(goal: str, indent: int = 2) -> str:
    """DeepSeek-Prover-V1.5's state comment (`Proof.segmentation`), for `goal` at `indent`."""
    nl = "\n" + " " * indent
    return nl.join([" " * indent + "/- tactic state:", "  " + goal.replace("\n", nl + "  "), "-/\n"])


# ---------------------------------------------------------------- one attempt
@dataclass
class Turn:
    """One generation of an attempt: round 0 is the first proof, round r >= 1 the r-th repair."""

    round: int
    tokens: int
    verified: bool
    reasons: list[str] = field(default_factory=list)
    prompt_chars: int = 0


class WholeProofSearch:
    """A `search_fn` for `run_attempts`/`evaluate`: one attempt = one sampled whole proof plus up to
    `cfg.repair_rounds` repairs. `propose` must send its text to the model unchanged (a generator
    whose prompt format is `{state}`, not a chat format: this class renders the preset's prompts,
    chat templates through `tokenizer`, because repair turns are conversations)."""

    def __init__(self, preset: Preset | str, cfg: WholeProofConfig = WholeProofConfig(), tokenizer=None):
        self.preset = get_preset(preset) if isinstance(preset, str) else preset
        if self.preset.output != "proof":
            raise ValueError(f"preset {self.preset.name!r} emits one tactic, not a whole proof: use step search")
        if self.preset.chat and tokenizer is None:
            raise ValueError(f"preset {self.preset.name!r} is a chat format: whole-proof mode needs the tokenizer")
        self.cfg = cfg
        self.format = cfg.repair_format or REPAIR_FORMAT.get(self.preset.name, "resume")
        self.tokenizer = tokenizer

    # prompts ---------------------------------------------------------------
    def first_messages(self, theorem: Theorem) -> list[dict[str, str]]:
        text = PromptFormat(self.preset.template).text(PromptInput("", name=theorem.name, header=theorem.header,
                                                                   statement=theorem.statement))
        system = [{"role": "system", "content": self.preset.system}] if self.preset.system is not None else []
        return system + [{"role": "user", "content": text}]

    def render(self, messages: list[dict[str, str]]) -> str:
        if not self.preset.chat:
            return messages[-1]["content"]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def repair_prompt(self, theorem: Theorem, messages: list[dict[str, str]], output: str, round_: int,
                      diagnosis: Diagnosis) -> tuple[list[dict[str, str]], str]:
        """(the conversation for repair round `round_`, the proof prefix the model continues: empty
        except in the resume format). `output` is the model's previous raw answer."""
        code = theorem.header + build_proof_text(theorem, diagnosis.tactics or ["sorry"])
        if self.format == "goedel":
            return messages + [{"role": "assistant", "content": output},
                               {"role": "user", "content": goedel_feedback(round_, code, diagnosis.errors)}], ""
        if self.format == "kimina":
            return messages + [{"role": "assistant", "content": output},
                               {"role": "user", "content": kimina_feedback(code, diagnosis.errors)}], ""
        prefix = "".join(f"  {line}\n" if line.strip() else "\n"
                         for tac in diagnosis.tactics[: diagnosis.good] for line in tac.split("\n"))
        goal = diagnosis.state.pp if diagnosis.state is not None else ""
        first = self.first_messages(theorem)
        resumed = first[-1]["content"] + prefix + tactic_state_comment(goal or "no goals")
        if self.preset.chat:   # a chat model continues its own answer's code block
            return first + [{"role": "user", "content": resumed}], prefix
        return first[:-1] + [{"role": "user", "content": resumed}], prefix

    def example(self, theorem: Theorem, tactics: Sequence[str]) -> tuple[str, str]:
        """(prompt, completion) that teaches a continuing model (not a chat one) `tactics` as the
        answer to the first prompt of every attempt, the proof laid out as verification checks
        it (so the completion reads back as the same proof): what a campaign trains on."""
        if self.preset.chat:
            raise ValueError(f"preset {self.preset.name!r} answers in a chat turn: no training text is made for it")
        body = build_proof_text(theorem, tactics)[len(theorem.statement.rstrip()) + 1:]
        return self.render(self.first_messages(theorem)), body

    # the attempt -------------------------------------------------------------
    def proof_of(self, theorem: Theorem, output: str, prefix: str = "") -> tuple[list[str], list[str]]:
        """(tactics, reasons): the proof in a model output with the benchmark statement put back;
        a changed statement is statement tampering (lean_env/verify.py) and gets no tactics."""
        if self.preset.chat:
            text = extract_proof(self.preset, output, theorem.statement)
            if text is None:
                return [], ["no Lean block in the output"]
            text = _strip_header(text)
        else:   # a continuation: the generator strips the first line's indentation
            first = output if output[:1].isspace() else "  " + output
            text = theorem.statement.rstrip() + "\n" + prefix + first
            cut = text.find("```")
            text = text[:cut] if cut >= 0 else text
        return split_full_proof(theorem, text)

    async def draft(self, theorem: Theorem, propose: Propose, messages: list[dict[str, str]],
                    prefix: str = "") -> tuple[str | None, int]:
        """(raw output or None when the sample was dropped, tokens generated)."""
        got = list(await propose(PromptInput(self.render(messages)), 1))
        if not got:
            return None, self.cfg.max_tokens
        return got[0].tactic, got[0].num_tokens

    async def __call__(self, theorem: Theorem, env: ProofEnv, propose: Propose, search_cfg=None, attempt: int = 0,
                       cancel: asyncio.Event | None = None) -> tuple[AttemptRecord, None]:
        t0 = time.perf_counter()
        rec = AttemptRecord(theorem_id=theorem.id, benchmark=theorem.benchmark, split=theorem.split,
                            attempt=attempt, proved=False, proof=None)
        messages, prefix, turns = self.first_messages(theorem), "", []
        for r in range(self.cfg.repair_rounds + 1):
            if cancel is not None and cancel.is_set():
                rec.failure = Failure.CANCELLED.value
                break
            output, tokens = await self.draft(theorem, propose, messages, prefix)
            tactics, reasons = self.proof_of(theorem, output, prefix) if output is not None else ([], ["no output"])
            verdict = None
            if tactics:
                verdict = await _call(env.verify(theorem, tactics))
                if isinstance(verdict, EnvFailure):
                    rec.env_failures += 1
                    verdict = Verdict(False, (f"env: {verdict.message}",))
                reasons = list(verdict.reasons)
            turns.append(Turn(r, tokens, bool(verdict and verdict.ok), reasons[:3], len(self.render(messages))))
            if verdict is not None and verdict.ok:
                rec.proved, rec.proof, rec.failure = True, list(tactics), ""
                break
            rec.lean_errors += 1
            rec.failure = Failure.PROOF.because("; ".join(reasons) or "rejected")
            if r == self.cfg.repair_rounds:
                break
            # a dropped sample (past max_tokens) is repaired as its authors' pipelines do: it has no
            # proof, which is the error; its text never reached us, so the turn shows none
            output = output or ""
            diagnosis = await diagnose(env, theorem, tactics, verdict)
            if not tactics:   # nothing to replay: the reasons are the errors, the goal is the statement's
                diagnosis.errors[:0] = [LeanErrorAt(0, 0, 0, 0, "; ".join(reasons))]
            messages, prefix = self.repair_prompt(theorem, messages, output, r + 1, diagnosis)
        rec.tokens = sum(t.tokens for t in turns)
        rec.expansions = len(turns)
        rec.whole = {"mode": "whole", "format": self.format, "turns": [asdict(t) for t in turns],
                     "fixed_in_round": next((t.round for t in turns if t.verified), None)}
        rec.wall = time.perf_counter() - t0
        return rec, None


def _strip_header(text: str) -> str:
    """A chat model's block holds imports/opens before the theorem: keep from the declaration on
    (the benchmark's header is the one checked; the statement is then compared token for token)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("theorem ", "lemma ")):
            return "\n".join(lines[i:])
    return text


def repair_fixes(records: Sequence[AttemptRecord], rounds: int) -> list[int]:
    """Per repair round r (1..rounds), how many attempts repair turned from failure into a verified
    proof in exactly that round."""
    out = [0] * rounds
    for rec in records:
        fixed = (rec.whole or {}).get("fixed_in_round")
        if fixed:
            out[fixed - 1] += 1
    return out


def whole_proof_examples(theorem: Theorem, tactics: Sequence[str], states: Sequence[str]) -> list[tuple[str, str]]:
    """Training pairs (prompt, completion) of the tiny-whole format from one proof whose goal state
    before tactic i is `states[i]`: the statement -> the whole proof, and, for every cut i >= 1,
    the statement + the first i tactics + the state comment there -> the rest (the resume format)."""
    lines = ["".join(f"  {ln}\n" if ln.strip() else "\n" for ln in tac.split("\n")) for tac in tactics]
    head = theorem.statement + "\n"
    out = [(head, "".join(lines).rstrip("\n"))]
    for i in range(1, len(tactics)):
        out.append((head + "".join(lines[:i]) + tactic_state_comment(states[i]), "".join(lines[i:]).rstrip("\n")))
    return out


def raw_generator_config(cfg):
    """`cfg` with the prompt sent as given (`{state}`, no chat template): whole-proof attempts render
    the preset's prompts themselves. The preset's sampling settings stay resolved in `cfg`."""
    return replace(cfg, preset=None, prompt_template="{state}", max_tactic_chars=None)


def mode_summary(mode: str, records: Sequence[AttemptRecord], repair_rounds: int = 0) -> dict[str, Any]:
    """What a summary adds for a mode: tokens generated, repairs per round, drafts that verified."""
    out: dict[str, Any] = {"mode": mode, "tokens_generated": sum(r.tokens for r in records)}
    if mode == "whole":
        out["repair_rounds"] = repair_rounds
        out["repair_fixed_per_round"] = repair_fixes(records, repair_rounds)
    if mode == "hybrid":
        out["drafts_verified"] = sum(bool((r.whole or {}).get("draft_verified")) for r in records)
        out["proved_after_resume"] = sum(r.proved and not (r.whole or {}).get("draft_verified") for r in records)
    return out


__all__ = ["whole_proof_examples", "mode_summary", "raw_generator_config", "WholeProofConfig", "WholeProofSearch", "LeanErrorAt", "Diagnosis", "diagnose", "top_level_tactics",
           "goedel_error_str", "goedel_feedback", "kimina_feedback", "tactic_state_comment", "repair_fixes",
           "REPAIR_FORMAT"]
