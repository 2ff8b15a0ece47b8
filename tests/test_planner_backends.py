"""Planner backends: the OpenAI-compatible chat planner against a local fake server (plans,
non-plans, errors, an unreachable endpoint), the prompt files, the local HF planner, and the
Ray progress store."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run, thm
from search.planner.backends import (
    OpenAIChatPlanner, PlannerConfig, PlannerServerError, PromptSet, make_planner,
)
from search.planner.plan import PlanError, PlanRequest, PlanStep, parse_plan

THEOREM = thm("theorem cyc (m w x : ℤ) (h₀ : m + w = 8) (h₁ : w + x = 9) (h₂ : x + m = 7) : m * w * x = 60 := by")
GOAL = "m w x : ℤ\nh₀ : m + w = 8\nh₁ : w + x = 9\nh₂ : x + m = 7\n⊢ m * w * x = 60"


class FakeChatServer:
    """`/v1/chat/completions` on 127.0.0.1 answering `reply` (a dict body, or (status, text));
    keeps every request body."""

    def __init__(self, reply):
        self.reply, self.requests = reply, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                server.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                status, text = server.reply if isinstance(server.reply, tuple) else (200, json.dumps(server.reply))
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def chat(content):
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}


def test_openai_planner_sends_the_prompt_files_and_reads_a_plan():
    with FakeChatServer(chat("Plan:\n```lean\nhave e0 : m = 3\nhave e1 : w = 5\n```")) as srv:
        planner = make_planner(PlannerConfig(kind="openai", base_url=srv.base_url, model="general-llm"))
        text = planner.plan(PlanRequest(THEOREM, GOAL))
        again = planner.plan(PlanRequest(THEOREM, GOAL, prefix=(PlanStep("e0", "m = 3"),), feedback="stuck"))
    assert [s.have() for s in parse_plan(text).steps] == ["have e0 : m = 3", "have e1 : w = 5"]
    first, second = srv.requests
    assert first["model"] == "general-llm" and first["temperature"] == 1.0 and first["seed"] != second["seed"]
    system, user = first["messages"]
    assert system["role"] == "system" and THEOREM.statement in user["content"] and GOAL in user["content"]
    assert "have e0 : m = 3" in second["messages"][1]["content"] and "stuck" in second["messages"][1]["content"]


def test_planner_seeds_come_from_the_request_not_from_what_was_asked_before():
    """A resumed or reordered run must ask with the same seeds: the seed is a function of the
    run's seed and the request's identity (the driver's key), never of a per-planner counter."""
    plan = chat("```lean\nhave e0 : m = 3\n```")
    a, b = PlanRequest(THEOREM, GOAL, key="t\x000\x00plan\x000\x000\x000"), PlanRequest(THEOREM, GOAL, key="t\x001\x00plan\x000\x000\x000")
    with FakeChatServer(plan) as srv:
        first = make_planner(PlannerConfig(kind="openai", base_url=srv.base_url, model="m"), seed=7)
        first.plan(a), first.plan(b)
        fresh = make_planner(PlannerConfig(kind="openai", base_url=srv.base_url, model="m"), seed=7)
        fresh.plan(b), fresh.plan(a)
        make_planner(PlannerConfig(kind="openai", base_url=srv.base_url, model="m"), seed=8).plan(a)
    s_a, s_b, s_b2, s_a2, s_a8 = (r["seed"] for r in srv.requests)
    assert (s_a, s_b) == (s_a2, s_b2) and s_a != s_b and s_a8 != s_a


def test_openai_planner_reply_that_is_not_a_plan_is_a_clear_error():
    with FakeChatServer(chat("The answer is 60 because 3 * 5 * 4 = 60.")) as srv:
        text = OpenAIChatPlanner(srv.base_url, "m").plan(PlanRequest(THEOREM, GOAL))
    with pytest.raises(PlanError, match="not a plan"):
        parse_plan(text)


@pytest.mark.parametrize("reply, match", [
    ((200, "not json"), "non-JSON response"),
    ({"choices": []}, "malformed chat completions response"),
    ({"choices": [{"message": {"content": None}}]}, "without text content"),
    ((400, '{"error": "bad model"}'), "answered 400"),
    ((503, "busy"), "answered 503"),
])
def test_openai_planner_server_errors_are_clear(reply, match):
    with FakeChatServer(reply) as srv:
        planner = OpenAIChatPlanner(srv.base_url, "m", retries=1, backoff=0.0)
        with pytest.raises(PlannerServerError, match=match):
            planner.plan(PlanRequest(THEOREM, GOAL))
    assert len(srv.requests) == (2 if reply == (503, "busy") else 1)   # only a busy server is retried


def test_openai_planner_unreachable_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed once we leave: nothing listens there
    planner = OpenAIChatPlanner(f"http://127.0.0.1:{port}/v1", "m", retries=1, backoff=0.0, timeout=2.0)
    with pytest.raises(PlannerServerError, match="cannot reach the planner"):
        planner.plan(PlanRequest(THEOREM, GOAL))


def test_an_unreachable_planner_fails_the_attempt_loudly():
    """The attempt did not happen (like a generator that raised): the scheduler must not record it."""
    from lean_env.factory import make_env
    from search.batcher import GenerationBatcher
    from search.best_first import SearchConfig
    from search.planner.driver import PlannerSearch
    from search.scheduler import AttemptsCrashed, RunConfig, run_attempts
    from policy.scripted import ScriptedGenerator

    planner = OpenAIChatPlanner("http://127.0.0.1:9/v1", "m", retries=0, timeout=1.0)

    async def go():
        env = make_env(workers=1)
        try:
            return await run_attempts([THEOREM], env, GenerationBatcher(ScriptedGenerator()), SearchConfig(2, 4),
                                      RunConfig(), search_fn=PlannerSearch(planner))
        finally:
            await env.close()

    with pytest.raises(AttemptsCrashed, match="cannot reach the planner"):
        run(go())


def test_prompts_are_user_files(tmp_path):
    (tmp_path / "system.txt").write_text("SYS")
    (tmp_path / "plan.txt").write_text("PLAN {statement} | {goal}")
    (tmp_path / "replan.txt").write_text("REPLAN {statement} | {goal} | {prefix} | {feedback}")
    prompts = PromptSet.load(tmp_path)
    msgs = prompts.messages(PlanRequest(THEOREM, "G", (PlanStep("a", "1 = 1"),), "why"))
    assert msgs == [{"role": "system", "content": "SYS"},
                    {"role": "user", "content": f"REPLAN {THEOREM.statement} | G | have a : 1 = 1 | why"}]
    with pytest.raises(FileNotFoundError, match="replan.txt"):
        (tmp_path / "replan.txt").unlink()
        PromptSet.load(tmp_path)


def test_hf_planner_samples_a_local_model(tmp_path):
    """A local causal LM (a micro Llama, untrained, char tokenizer): its reply is text, which the
    driver then reads as a plan or refuses."""
    pytest.importorskip("torch")
    from training_fixtures import char_tokenizer, micro_llama

    tok = char_tokenizer()
    micro_llama(tok).save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "system.txt").write_text("Plan.")
    (prompts / "plan.txt").write_text("{statement}\n{goal}\n")
    (prompts / "replan.txt").write_text("{statement} {goal} {prefix}")
    planner = make_planner(PlannerConfig(kind="hf", model=str(tmp_path / "m"), prompts=str(prompts), max_tokens=8))
    text = planner.plan(PlanRequest(THEOREM, GOAL))
    assert isinstance(text, str) and 0 < len(text) <= 8 * 4
    assert planner.prompt_text(PlanRequest(THEOREM, GOAL)) == f"Plan.\n\n{THEOREM.statement}\n{GOAL}\n\n\n"


def test_ray_progress_store_is_shared_and_compare_and_set():
    ray = pytest.importorskip("ray", reason="Ray is an optional extra")
    from search.planner.store import RayProgressStore

    # a Ray instance of our own: `ray.init()` alone would join any cluster already on the machine
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        a = RayProgressStore("planner-test-store")
        b = RayProgressStore("planner-test-store")     # another client: the same actor

        async def go():
            steps = parse_plan("have e0 : m = 3\nhave e1 : w = 5").steps
            p = await a.set_plan("t", steps, 0)
            taken = await b.submit("t", 0, ["linarith"], p.version)
            stale = await a.submit("t", 0, ["omega"], p.version)
            return await a.get("t"), taken, stale

        now, taken, stale = run(go())
    finally:
        ray.shutdown()
    assert taken is not None and stale is None
    assert now.step == 1 and now.proofs == (("linarith",),)
