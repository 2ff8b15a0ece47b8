"""A small OpenAI-compatible `/v1/completions` server on 127.0.0.1 for campaign tests.

It serves models by name the way a campaign asks for them: the request's `model` is a checkpoint
directory, loaded once and sampled with the in-process HF sampler (so the tactics come from the
real tiny model the campaign trained). Every request body is kept in `requests` for assertions.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeCompletionsServer:
    def __init__(self):
        self.requests: list[dict] = []
        self._models: dict[str, tuple] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):   # keep test output quiet
                pass

            def do_POST(self):
                if self.path != "/v1/completions":
                    self.send_error(404)
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    payload, status = server.complete(body), 200
                except FileNotFoundError as e:   # what a server says for a model it does not have
                    payload, status = {"error": {"message": str(e)}}, 404
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def complete(self, body: dict) -> dict:
        from policy.base import PromptFormat
        from policy.checkpoint import load_checkpoint
        from policy.hf import HFGenerator
        from policy.params import SamplingParams

        with self._lock:   # one forward pass at a time, like a single-GPU server
            self.requests.append(body)
            if body["model"] not in self._models:
                model, tokenizer, _ = load_checkpoint(body["model"])
                self._models[body["model"]] = (model, tokenizer)
            model, tokenizer = self._models[body["model"]]
            params = SamplingParams(temperature=body["temperature"], top_p=body["top_p"], max_tokens=body["max_tokens"],
                                    stop=tuple(body.get("stop") or ("\n\n",)), seed=body.get("seed", 0))
            # prompts arrive rendered: the server's template is the identity
            generator = HFGenerator(model, tokenizer, params, prompt=PromptFormat("{state}"))
            n = body["n"]
            groups = generator.generate(body["prompt"], n)
        choices = [{"index": i * n + j, "text": c.tactic, "finish_reason": "stop",
                    "logprobs": {"token_logprobs": list(c.token_logprobs)}}
                   for i, group in enumerate(groups) for j, c in enumerate(group)]
        return {"object": "text_completion", "model": body["model"], "choices": choices}

    def __enter__(self) -> "FakeCompletionsServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
