"""The embedded tiny model: tokenizer round-trips Lean unicode, presets, seeding, save/load as an HF dir."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from policy.checkpoint import META_FILE, load_checkpoint, save_checkpoint
from policy.tiny import MIN_VOCAB, benchmark_corpus, create_model, num_parameters, train_tokenizer

CORPUS = ["a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2", "x : ℤ\n⊢ x ^ 2 ≥ 0", "rw [h₀]", "omega",
          "obtain ⟨k, hk⟩ := h₀", "nlinarith [sq_nonneg x]"] * 4
LEAN_TEXTS = [
    "∀ (n : ℕ), ∃ m, n ∣ m ∧ ¬m ≠ n ↔ True",
    "n✝ · ⟨x, hx⟩ ← h₁₂ ∨ a ≤ b → c ≥ d",
    "⟨a , b⟩ . ! ? it 's",            # spacing a "clean-up" decoder would silently change
    "  indented\n\n  two blank\tlines ",
    "unseen: ∑ i ∈ Finset.range n, i² ≅ 😀",  # characters the corpus never showed
]


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(CORPUS, vocab_size=320)


def test_lean_unicode_round_trips_exactly_without_unknown_tokens(tok):
    for s in LEAN_TEXTS + CORPUS:
        ids = tok(s, add_special_tokens=False)["input_ids"]
        assert tok.unk_token_id not in ids
        assert tok.decode(ids) == s


def test_special_tokens_are_distinct_and_padding_is_left(tok):
    ids = {tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.unk_token_id}
    assert None not in ids and len(ids) == 4
    assert tok.padding_side == "left"
    assert MIN_VOCAB <= len(tok) <= 320


def test_tokenizer_training_is_deterministic_and_learns_merges(tok):
    again = train_tokenizer(CORPUS, vocab_size=320)
    assert again.get_vocab() == tok.get_vocab()
    # merges learned from the corpus make a frequent word shorter than its bytes
    assert len(tok("omega", add_special_tokens=False)["input_ids"]) < len("omega")


def test_tokenizer_rejects_bad_input():
    with pytest.raises(ValueError, match="at least"):
        train_tokenizer(CORPUS, vocab_size=100)
    with pytest.raises(ValueError, match="empty corpus"):
        train_tokenizer([])
    with pytest.raises(TypeError, match="item 1"):
        train_tokenizer(["ok", 3])


def test_benchmark_corpus_holds_statements_and_seed_tactics():
    texts = benchmark_corpus("embedded", "train")
    assert any(":= by" in t for t in texts)
    assert any(t in ("omega", "constructor") for t in texts)  # seed-proof tactics, not only statements
    assert all(isinstance(t, str) for t in texts)


def test_presets_have_the_advertised_sizes(tok):
    assert 0.5e6 < num_parameters(create_model(tok, "tiny")) < 1.0e6
    assert 2.5e6 < num_parameters(create_model(tok, "small")) < 4.5e6
    with pytest.raises(ValueError, match="unknown model preset"):
        create_model(tok, "huge")


def test_model_creation_is_seeded_and_leaves_the_global_rng_alone(tok):
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = create_model(tok, "micro", seed=7)
    assert torch.equal(torch.rand(1), expected_next)
    b = create_model(tok, "micro", seed=7)
    c = create_model(tok, "micro", seed=8)
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb), name
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_checkpoint_is_a_plain_hf_dir_and_round_trips(tok, tmp_path):
    model = create_model(tok, "micro", seed=1).eval()
    save_checkpoint(model, tok, tmp_path / "m", {"what": "test", "round": 3})
    assert (tmp_path / "m" / "model.safetensors").exists()
    # the format is Hugging Face's own: its Auto classes (and so vLLM) read it without our code
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "m").eval()
    loaded_tok = AutoTokenizer.from_pretrained(tmp_path / "m")
    ids = torch.tensor([[tok.bos_token_id] + tok(CORPUS[0], add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, loaded(ids).logits, atol=1e-6)
    for s in LEAN_TEXTS:
        assert loaded_tok.decode(loaded_tok(s, add_special_tokens=False)["input_ids"]) == s
    assert loaded_tok.eos_token_id == tok.eos_token_id and loaded_tok.padding_side == "left"
    m2, t2, meta = load_checkpoint(tmp_path / "m", dtype="bfloat16")
    assert meta == {"what": "test", "round": 3}
    assert num_parameters(m2) == num_parameters(model) and len(t2) == len(tok)
    assert next(m2.parameters()).dtype == torch.bfloat16 and not m2.training


def test_save_replaces_a_checkpoint_in_place(tok, tmp_path):
    save_checkpoint(create_model(tok, "micro", seed=1), tok, tmp_path / "m", {"v": 1})
    second = create_model(tok, "micro", seed=2)
    save_checkpoint(second, tok, tmp_path / "m", {"v": 2})
    model, _, meta = load_checkpoint(tmp_path / "m")
    assert meta == {"v": 2}
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), second.parameters()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]   # no .tmp/.old left behind
    (tmp_path / "m" / META_FILE).unlink()
    assert load_checkpoint(tmp_path / "m")[2] == {}   # a directory someone else wrote


def test_load_checkpoint_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="init-model"):
        load_checkpoint(tmp_path / "nowhere" / "model")
    with pytest.raises(ValueError, match="unknown dtype"):
        load_checkpoint(tmp_path, dtype="float99")
