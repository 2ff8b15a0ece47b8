"""The policy: the model that proposes tactics, used by search/ and training/ alike.
Generators (goal states + n -> sampled tactics with token log-probs), the sampler, checkpoints, the tiny model.

`GeneratorConfig` + `make_generator` (factory.py) build one from a YAML `generator:` section:
Hugging Face in-process (hf.py, with the one sampler in sampling.py), vLLM (vllm_gen.py), an
OpenAI-compatible server (openai_http.py), an encoder-decoder such as ReProver (seq2seq.py), or actors
on a Ray cluster's GPU nodes (ray_gen.py); beam search in beam.py; released provers' prompt formats
and decoding in presets.py. Sampling settings are one `SamplingParams` (params.py);
models are saved and loaded only by checkpoint.py; tiny.py creates the embedded model."""
