"""Tokenizers carrying each released prover's special tokens and chat template, and tiny randomly
initialised models of each one's architecture class, for tests/test_presets.py (no weights can be
downloaded here).

The chat templates are the branch a single-turn prompt goes through, copied from each family's
`tokenizer_config.json` (the tool-call and multi-turn branches are left out):
- Qwen2.5 (Kimina-Prover-72B's base; BFS-Prover's base has the same tokens): the non-tools branch,
  verbatim from Qwen2.5-Instruct's template (as reproduced in openbmb's MiniCPM-o-2_6 processor test).
- Qwen3 (Goedel-Prover-V2-8B, Kimina-Prover-Distill-1.7B): no default system message; with
  `enable_thinking` false an empty think block is opened for the assistant.
- DeepSeek (DeepSeek-Prover-V2-7B, the DeepSeek-V3 family template): `{{ bos_token }}`, the system
  prompt, `<｜User｜>` + content, and `<｜Assistant｜>` as the generation prompt.
"""
from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

QWEN25_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "{%- else %}\n"
    "    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n")

QWEN3_TEMPLATE = (
    "{%- for message in messages %}\n"
    "    {%- if message.role == 'system' or message.role == 'user' %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "    {%- if enable_thinking is defined and enable_thinking is false %}\n"
    "        {{- '<think>\\n\\n</think>\\n\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endif %}")

DEEPSEEK_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(system_prompt='') %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}"
    "{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}{%- if message['role'] == 'user' %}{{'<｜User｜>' + message['content']}}"
    "{%- endif %}{%- if message['role'] == 'assistant' %}{{'<｜Assistant｜>' + message['content'] + "
    "'<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}"
    "{% if add_generation_prompt %}{{'<｜Assistant｜>'}}{% endif %}")

# family -> special tokens, and which of them are BOS / EOS / pad
FAMILIES = {
    "qwen2": dict(special=["<|endoftext|>", "<|im_start|>", "<|im_end|>"], bos=None, eos="<|endoftext|>",
                  pad="<|endoftext|>", template=QWEN25_TEMPLATE),
    "qwen3": dict(special=["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"], bos=None,
                  eos="<|im_end|>", pad="<|endoftext|>", template=QWEN3_TEMPLATE),
    "internlm2": dict(special=["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"], bos="<s>", eos="</s>",
                      pad="</s>", template=None),
    "deepseek": dict(special=["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"],
                     bos="<｜begin▁of▁sentence｜>", eos="<｜end▁of▁sentence｜>", pad="<｜end▁of▁sentence｜>",
                     template=DEEPSEEK_TEMPLATE),
}


def family_tokenizer(family: str, corpus: list[str], vocab_size: int = 400) -> PreTrainedTokenizerFast:
    f = FAMILIES[family]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=f["special"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                        show_progress=False))
    if f["bos"]:   # Llama-style tokenizers (InternLM2, DeepSeek) put BOS before every text they encode
        tok.post_processor = processors.TemplateProcessing(single=f"{f['bos']} $A", pair=f"{f['bos']} $A $B",
                                                           special_tokens=[(f["bos"], tok.token_to_id(f["bos"]))])
    out = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=f["bos"], eos_token=f["eos"], pad_token=f["pad"],
                                  additional_special_tokens=[s for s in f["special"] if s not in (f["bos"], f["eos"])],
                                  padding_side="left", clean_up_tokenization_spaces=False)
    out.chat_template = f["template"]
    return out


def tiny_model(architecture: str, tokenizer, seed: int = 0):
    """A randomly initialised model of `architecture` sized for tests. InternLM2 lives in remote
    code that is not installed: its layout is Llama's (vLLM serves it natively), so a Llama stands in."""
    import torch
    import transformers

    small = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                 num_key_value_heads=2, max_position_embeddings=2048, vocab_size=len(tokenizer),
                 eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                 bos_token_id=tokenizer.bos_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if architecture == "T5ForConditionalGeneration":
            cfg = transformers.T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                        num_heads=2, decoder_start_token_id=tokenizer.pad_token_id,
                                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
            return transformers.T5ForConditionalGeneration(cfg).eval()
        name = "LlamaForCausalLM" if architecture == "InternLM2ForCausalLM" else architecture
        cls = getattr(transformers, name)
        cfg = cls.config_class(**small, **({"head_dim": 16} if name == "Qwen3ForCausalLM" else {}))
        return cls(cfg).eval()


FAMILY_OF = {"Qwen2ForCausalLM": "qwen2", "Qwen3ForCausalLM": "qwen3", "InternLM2ForCausalLM": "internlm2",
             "LlamaForCausalLM": "deepseek"}
