"""The search loop's own cost: microseconds per expansion and peak memory of one best-first search
on a synthetic problem where the generator and the environment cost nothing, side by side with
ReProver's unmodified search loop on the same problem.

    python bench/bench_search.py [--expansions 2000 20000] [--alpha 0 2] [--repeats 5] [--reprover DIR]

Every expansion proposes the same 8 tactics (mean log-probs -0.025 ... -0.2). Tactics 0-2 fail with a fresh
Lean error message, 3-6 give fresh goal states, 7 gives a goal seen five states earlier (a merge,
sometimes into an ancestor: a cycle the search must refuse). Nothing is ever proved, so the search
runs its whole expansion budget. The environments hand out states and errors built before the clock
starts, so what is measured is the search, not the stub. Time is measured without tracemalloc;
peak memory (tracemalloc: every Python allocation the search makes) in a separate run.

Two environments: `batched` answers all of an expansion's tactics in one `run_tactics` call,
`per-tactic` has only `run_tactic` (the REPL pool's case), so the search runs the tactics
concurrently itself. `--alpha 0` ranks nodes by cumulative log-prob alone, the order ReProver's
`BestFirstSearchProver` uses, so that is the setting to compare with it; 2 is the default of
`SearchConfig`.

`--reprover DIR` names a checkout of github.com/lean-dojo/ReProver (e.g. `git clone` it, or
`git archive` a mirror); its `prover/search_tree.py` and `prover/proof_search.py` are loaded as
they are, with stand-ins only for imports the loop never calls (vLLM, Ray, its model code) and for
LeanDojo's `Dojo` (the same synthetic environment, answering `run_tac` from the same prebuilt
pools). Its loop runs tactics one after another, synchronously. Runs are interleaved (one of each
contender per repeat) and the best of the repeats is compared, since the machine may be shared.
Targets (issue 19): per-tactic at most ReProver's time per expansion, batched at most half of it,
peak memory at most ReProver's.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import importlib.util
import select
import sys
import time
import tracemalloc
import types
from pathlib import Path

from lean_env.types import LeanError, TacticState, Theorem, Verdict
from policy.base import TacticCandidate
from search.best_first import SearchConfig, search

N_TACTICS = 8
CANDIDATES = [TacticCandidate(f"tactic_{j}", -0.1 * (j + 1), 4) for j in range(N_TACTICS)]
THEOREM = Theorem("synthetic", "", "theorem synthetic : True := by", id="synthetic")


class Pools:
    """The states and error messages one search of `expansions` expansions can meet, prebuilt:
    `make_state(i)` builds goal state i, `make_error(i)` error i (our types or LeanDojo's)."""

    def __init__(self, expansions: int, make_state, make_error):
        self.states = [make_state(i) for i in range(4 * expansions + 2)]
        self.errors = [make_error(f"unsolved goals (error {i})") for i in range(3 * expansions + 1)]
        self.next_state = 1
        self.next_error = 0

    def step(self, state_id: int, tactic: str):
        """The answer to `tactic` at state `state_id` (see the module's docstring)."""
        j = int(tactic[-1])
        if j < 3:
            self.next_error += 1
            return self.errors[self.next_error]
        if j == 7:
            return self.states[max(state_id - 5, 0)]
        i = self.next_state
        self.next_state += 1
        return self.states[i]


def our_pools(expansions: int) -> Pools:
    return Pools(expansions, lambda i: TacticState((f"⊢ g{i}",), i), LeanError)


class PerTacticEnv:
    """Only `run_tactic`: the search runs an expansion's tactics concurrently itself."""

    def __init__(self, pools: Pools) -> None:
        self.pools = pools

    async def start(self, theorem: Theorem) -> TacticState:
        return self.pools.states[0]

    async def run_tactic(self, state: TacticState, tactic: str):
        return self.pools.step(state.id, tactic)

    async def verify(self, theorem: Theorem, tactics) -> Verdict:
        return Verdict(False, ("synthetic",))

    async def close(self) -> None:
        pass


class BatchedEnv(PerTacticEnv):
    """Answers a whole expansion in one call."""

    async def run_tactics(self, state: TacticState, tactics):
        step, sid = self.pools.step, state.id
        return [step(sid, t) for t in tactics]


async def propose(state: str, n: int) -> list[TacticCandidate]:
    return CANDIDATES[:n]


def ours(env_cls, alpha: float):
    """A runner of our search with `env_cls` over prebuilt pools: expansions -> (setup, run)."""
    def runner(expansions: int):
        pools = our_pools(expansions)
        cfg = SearchConfig(tactics_per_expansion=N_TACTICS, max_expansions=expansions, alpha=alpha,
                           wall_seconds=1e6)

        def run():
            rec, tree = asyncio.run(search(THEOREM, env_cls(pools), propose, cfg))
            assert rec.expansions == expansions and rec.failure == "budget: expansions", rec.failure
            return rec, tree
        return run
    return runner


# ---------------------------------------------------------------- ReProver's loop, unmodified
def load_reprover(checkout: Path):
    """ReProver's `prover.proof_search` module from a checkout, with stand-ins for the imports its
    search loop never calls. Our own `prover` package is not imported by this script, and the
    names are restored afterwards, so ReProver's `prover` can be loaded under its own name."""
    if not (checkout / "prover" / "proof_search.py").exists():
        raise SystemExit(f"--reprover {checkout}: no prover/proof_search.py there (a lean-dojo/ReProver checkout?)")

    def stub(name: str, **attrs) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        return mod

    placeholder = type("Unused", (), {})
    stubs = {
        "vllm": stub("vllm", AsyncLLMEngine=placeholder, AsyncEngineArgs=placeholder, SamplingParams=placeholder,
                     RequestOutput=placeholder),
        "ray": stub("ray", remote=lambda cls: cls),
        "ray.util": stub("ray.util"),
        "ray.util.actor_pool": stub("ray.util.actor_pool", ActorPool=placeholder),
        "common": stub("common", zip_strict=zip),
        "prover": stub("prover", __path__=[str(checkout / "prover")]),
        "prover.tactic_generator": stub("prover.tactic_generator", TacticGenerator=placeholder,
                                        HuggingFaceGenerator=placeholder, RetrievalAugmentedGenerator=placeholder,
                                        FixedTacticGenerator=placeholder, VllmGenerator=placeholder),
    }
    saved = {name: sys.modules.get(name) for name in [*stubs, "prover.search_tree", "prover.proof_search"]}
    sys.modules.update(stubs)
    try:
        for name in ("search_tree", "proof_search"):
            spec = importlib.util.spec_from_file_location(f"prover.{name}", checkout / "prover" / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[f"prover.{name}"] = module
            spec.loader.exec_module(module)
        return module
    finally:
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod


def reprover(checkout: Path):
    """A runner of ReProver's `BestFirstSearchProver.search` on the same problem."""
    import lean_dojo
    from loguru import logger

    logger.remove()  # its per-step debug lines would otherwise go to stderr (their f-strings still run)
    ps = load_reprover(checkout)
    suggestions = [(c.tactic, c.mean_logprob) for c in CANDIDATES]

    class Generator:
        def initialize(self) -> None:
            pass

        async def generate(self, state, file_path, theorem_full_name, theorem_pos, num_samples):
            return suggestions[:num_samples]

    def runner(expansions: int):
        pools = Pools(expansions, lambda i: lean_dojo.TacticState(f"⊢ g{i}", i), lean_dojo.LeanError)

        class Dojo:  # LeanDojo's context manager, answering from the pools
            def __init__(self, thm, timeout, additional_imports=()):
                pass

            def __enter__(self):
                return self, pools.states[0]

            def __exit__(self, *exc):
                return False

            def run_tac(self, state, tactic):
                return pools.step(state.id, tactic)

        thm = types.SimpleNamespace(file_path="Synthetic.lean", repo=None, full_name="synthetic")

        def run():
            ps.Dojo = Dojo
            # it stops once more than max_expansions are done
            prover = ps.BestFirstSearchProver(Generator(), timeout=10**9, max_expansions=expansions - 1,
                                              num_sampled_tactics=N_TACTICS, debug=False)
            result = prover.search(None, thm, None)
            assert result.num_searched_nodes == expansions, result
            return result, prover
        return run
    return runner


# ---------------------------------------------------------------- measuring
def cpu_per_expansion(runner, expansions: int) -> float:
    """CPU seconds per expansion (steadier than wall time on a shared machine), setup excluded."""
    run = runner(expansions)
    settle()
    c0 = time.process_time()
    result = run()
    cpu = (time.process_time() - c0) / expansions
    gc.unfreeze()
    del result
    return cpu


def settle() -> None:
    """Before a measured search: what the process already holds (modules, torch when ReProver is
    loaded, the prebuilt pools) is moved out of the collector's sight, so that every contender's
    garbage collections cost what its own objects cost."""
    gc.collect()
    gc.freeze()


def peak_mib(runner, expansions: int) -> float:
    run = runner(expansions)
    settle()
    tracemalloc.start()
    result = run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    gc.unfreeze()
    del result
    return peak / 2**20


def callgrind(args) -> None:
    """Instructions per expansion of each contender, each search in its own process under callgrind,
    counting only the search itself (not imports or the prebuilt pools)."""
    import re
    import shutil
    import subprocess
    import tempfile

    if shutil.which("valgrind") is None:
        raise SystemExit("--callgrind needs valgrind (apt-get install valgrind)")
    python = Path(sys.executable).resolve()  # not a shim script: valgrind must trace Python itself
    names = ["batched", "per-tactic"] + (["reprover"] if args.reprover is not None else [])
    for alpha in args.alpha:
        for n in args.expansions:
            counts = {}
            for name in names:
                if name == "reprover" and alpha != 0:
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    # imports and setup run uninstrumented (fast); instrumentation is switched on
                    # once the child says it is ready, and only functools.reduce (the search) counts
                    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--toggle-collect=functools_reduce",
                           f"--callgrind-out-file={tmp}/out", str(python), __file__, "--only", name,
                           "--alpha", str(alpha), "--expansions", str(n)]
                    if args.reprover is not None:
                        cmd += ["--reprover", str(args.reprover)]
                    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)
                    if child.stdout.readline().strip() == "ready":
                        subprocess.run(["callgrind_control", "--instr=on", str(child.pid)], check=True,
                                       capture_output=True)
                        child.stdin.write("go\n")
                        child.stdin.flush()
                    _, err = child.communicate()
                found = re.search(r"Collected : (\d+)", err)
                if child.returncode or not found:
                    raise SystemExit(f"callgrind run failed ({name}): {err[-800:]}")
                counts[name] = int(found.group(1)) / n
            for name, ir in counts.items():
                line = f"alpha {alpha:g} {name:10s} {n:6d} expansions x {N_TACTICS}: {ir / 1e3:7.1f}k instructions/expansion"
                if "reprover" in counts and name != "reprover":
                    line += f"; vs ReProver {ir / counts['reprover']:.2f}x"
                print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--expansions", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--alpha", type=float, nargs="+", default=[0.0, 2.0],
                    help="depth normalisation; 0 ranks like ReProver (cumulative log-prob), 2 is the default")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reprover", type=Path, default=None,
                    help="a lean-dojo/ReProver checkout, to compare with its BestFirstSearchProver (alpha 0)")
    ap.add_argument("--callgrind", action="store_true",
                    help="count CPU instructions per expansion with valgrind's callgrind instead of timing "
                         "(independent of the machine's load; one run of each, ~50x slower)")
    ap.add_argument("--only", choices=["batched", "per-tactic", "reprover"], default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.repeats < 1 or any(n < 1 for n in args.expansions):
        raise SystemExit("--repeats and --expansions must be >= 1")
    if args.callgrind:
        return callgrind(args)

    for alpha in args.alpha:
        makers = {"batched": lambda: ours(BatchedEnv, alpha), "per-tactic": lambda: ours(PerTacticEnv, alpha)}
        if args.reprover is not None and alpha == 0:
            makers["reprover"] = lambda: reprover(args.reprover)
        if args.only:
            makers = {args.only: makers[args.only]} if args.only in makers else {}
        contenders = {name: make() for name, make in makers.items()}
        for n in args.expansions:
            if args.only:  # a child of --callgrind, which counts only inside functools.reduce: the search
                run = contenders[args.only](n)
                print("ready", flush=True)
                while not select.select([sys.stdin], [], [], 0)[0]:
                    pass  # running, not blocked, so that valgrind sees the command to instrument
                sys.stdin.readline()
                settle()
                functools.reduce(lambda _, f: f(), [run], None)
                continue
            cpu: dict[str, list[float]] = {name: [] for name in contenders}
            for _ in range(args.repeats):  # interleaved: load changes hit all contenders alike
                for name, runner in contenders.items():
                    cpu[name].append(cpu_per_expansion(runner, n))
            peak = {name: peak_mib(runner, n) for name, runner in contenders.items()}
            for name in contenders:
                best = min(cpu[name])
                line = (f"alpha {alpha:g} {name:10s} {n:6d} expansions x {N_TACTICS}: cpu best of {args.repeats} "
                        f"{best * 1e6:6.1f} us/expansion (median {sorted(cpu[name])[len(cpu[name]) // 2] * 1e6:.1f}), "
                        f"peak {peak[name]:6.1f} MiB")
                if "reprover" in contenders and name != "reprover":
                    line += (f"; vs ReProver: time {best / min(cpu['reprover']):.2f}x, "
                             f"memory {peak[name] / peak['reprover']:.2f}x")
                print(line, flush=True)


if __name__ == "__main__":
    main()
