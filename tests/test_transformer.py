"""Transformer encoder–decoder: causal and padding masks, step interface, training, searches."""

import math

import pytest
import torch
from torch import nn

from companion import decoding, translation
from companion.data import Seq2SeqData, generate_pairs
from companion.models import make_transformer
from companion.models.decoders import SequenceDecoder
from companion.models.encoders import sinusoidal_positions
from companion.models.transformer import (
    DecoderLayer,
    DecoderStack,
    MultiHeadAttention,
    TransformerDecoder,
    causal_mask,
)
from companion.train import train_seq2seq


def small_model(src_v=20, tgt_v=15, **kw):
    torch.manual_seed(0)
    return make_transformer(
        src_v, tgt_v, d_model=32, nhead=4, num_layers=2, dim_feedforward=64, **kw
    ).eval()


def random_batch(b=4, s=7, t=6, src_v=20, tgt_v=15, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, src_v, (b, s), generator=g)
    lengths = torch.tensor([s, s - 2, 3, 1][:b])
    for i, n in enumerate(lengths):
        src[i, n:] = 0
    tgt = torch.randint(4, tgt_v, (b, t), generator=g)
    tgt[:, 0] = 1
    return src, lengths, tgt


def test_causal_mask_blocks_only_the_future():
    m = causal_mask(4)
    assert m.dtype == torch.bool
    assert torch.equal(
        m, torch.tensor([[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]).bool()
    )


def test_a_future_token_never_influences_an_earlier_output():
    model = small_model()
    src, lengths, tgt = random_batch()
    with torch.no_grad():
        base = model(src, lengths, tgt)
        for k in range(1, tgt.shape[1]):
            perturbed = tgt.clone()
            perturbed[:, k:] = (perturbed[:, k:] + 5) % 11 + 4  # every token from k on changes
            out = model(src, lengths, perturbed)
            assert torch.allclose(out[:, :k], base[:, :k], atol=1e-5), (
                f"position < {k} saw the future"
            )
            assert not torch.allclose(out[:, k:], base[:, k:], atol=1e-3)


def test_padding_does_not_leak():
    model = small_model()
    src, lengths, tgt = random_batch()
    padded = torch.arange(src.shape[1])[None] >= lengths[:, None]
    assert padded.any()
    with torch.no_grad():
        base = model(src, lengths, tgt)
        # other tokens in the padded positions: the masks come from the lengths, not from the ids
        junk = src.masked_fill(padded, 9)
        assert torch.allclose(model(junk, lengths, tgt), base, atol=1e-5)
        # more padding columns change nothing
        wider = torch.cat([src, torch.zeros(src.shape[0], 3, dtype=torch.long)], dim=1)
        assert torch.allclose(model(wider, lengths, tgt), base, atol=1e-5)
        # each sentence alone gives what it gets inside the batch
        for i in range(src.shape[0]):
            alone = model(src[i : i + 1, : lengths[i]], lengths[i : i + 1], tgt[i : i + 1])
            assert torch.allclose(alone, base[i : i + 1], atol=1e-5)
        # and the encoder–decoder attention puts no weight on padding
        weights = model.attention_weights(src, lengths, tgt)
        assert weights.shape == (4, tgt.shape[1], src.shape[1])
        assert torch.allclose(weights.sum(-1), torch.ones(4, tgt.shape[1]), atol=1e-5)
        assert (weights.masked_select(padded[:, None, :].expand_as(weights)) == 0).all()


def test_step_interface_matches_the_parallel_forward_pass():
    model = small_model()
    src, lengths, tgt = random_batch()
    with torch.no_grad():
        full = model(src, lengths, tgt).log_softmax(-1)
        state = model.init_state(src, lengths)
        assert state[0].shape == (4, 0)
        for t in range(tgt.shape[1]):
            log_probs, state = model.step(tgt[:, t], state)
            assert torch.allclose(log_probs, full[:, t], atol=1e-5)
        assert all(s.shape[0] == 4 for s in decoding._tensor_leaves(state))


def test_key_value_cache_gives_the_log_probs_and_weights_of_rerunning_the_prefix():
    model = small_model()
    src, lengths, tgt = random_batch(t=9)
    with torch.no_grad():
        cached = model.init_state(src, lengths)
        model.decoder.kv_cache = False
        uncached = model.init_state(src, lengths)
        assert len(cached) == 4 and len(uncached) == 3
        for t in range(tgt.shape[1]):
            lp_cached, cached, w_cached = model.decoder.step(tgt[:, t], cached)
            lp_uncached, uncached, w_uncached = model.decoder.step(tgt[:, t], uncached)
            assert torch.allclose(lp_cached, lp_uncached, atol=1e-5), f"step {t}"
            assert torch.allclose(w_cached, w_uncached, atol=1e-6), f"step {t}"
            for self_keys, self_values, mem_keys, mem_values, mem_bias in cached[3]:
                # one new key and value per step; keys stored transposed [B, H, Dh, t]
                assert self_keys.shape == (4, 4, 8, t + 1)
                assert self_values.shape == (4, 4, t + 1, 8)
                assert mem_keys.shape == mem_values.shape == (4, 7 * 4, 32) and mem_bias.shape == (
                    4,
                    1,
                    28,
                )


def test_a_cached_step_reads_the_prefix_only_through_the_cache():
    model = small_model()
    src, lengths, tgt = random_batch()
    with torch.no_grad():
        state = model.init_state(src, lengths)
        for t in range(4):
            _, state = model.step(tgt[:, t], state)
        prefix, memory, mask, caches = state
        scrambled = (torch.zeros_like(prefix), torch.zeros_like(memory), mask, caches)
        expected = model.step(tgt[:, 4], state)[0]
        assert torch.equal(model.step(tgt[:, 4], scrambled)[0], expected)
        emptied = (prefix, memory, mask, tuple((k * 0, v * 0, *memory) for k, v, *memory in caches))
        assert not torch.allclose(model.step(tgt[:, 4], emptied)[0], expected, atol=1e-3)


def test_beam_search_finds_the_same_hypotheses_with_and_without_the_cache():
    model = small_model()
    src, lengths, _ = random_batch()
    found = {}
    for cached in (True, False):
        model.decoder.kv_cache = cached
        with torch.no_grad():
            found[cached] = decoding.beam_search(
                model.step,
                model.init_state(src, lengths),
                bos_id=1,
                eos_id=2,
                beam_width=4,
                n_best=4,
                max_len=12,
            )
    for with_cache, without in zip(found[True], found[False], strict=True):
        assert [h.tokens for h in with_cache] == [h.tokens for h in without]
        assert all(abs(a.score - b.score) < 1e-4 for a, b in zip(with_cache, without, strict=True))
        assert len({tuple(h.tokens) for h in with_cache}) == 4


def test_overfits_a_tiny_batch_and_decodes_it_greedily():
    torch.manual_seed(0)
    pairs = generate_pairs("dates", 8, seed=3)
    data = Seq2SeqData.from_pairs(pairs, "en", "zh")
    model = make_transformer(
        len(data.src_vocab),
        len(data.tgt_vocab),
        d_model=32,
        nhead=4,
        num_layers=1,
        dim_feedforward=64,
        dropout=0.0,
    )
    batches = [data.batch(range(8))]
    history = train_seq2seq(model, batches, epochs=150, lr=3e-3, progress=False)
    assert history.last["loss"] < 0.05
    model.eval()
    batch = batches[0]
    # the searches of companion.decoding reorder the (prefix, memory, mask) state unchanged
    ids = dict(bos_id=data.tgt_vocab.bos_id, eos_id=data.tgt_vocab.eos_id, max_len=15)
    greedy = decoding.greedy_search(
        model.step, model.init_state(batch.src, batch.src_lengths), **ids
    )
    beam = decoding.beam_search(
        model.step, model.init_state(batch.src, batch.src_lengths), beam_width=3, n_best=2, **ids
    )
    for g, b, pair in zip(greedy, beam, pairs, strict=True):
        assert "".join(data.tgt_vocab.decode(g[0].tokens)) == pair.tgt
        assert "".join(data.tgt_vocab.decode(b[0].tokens)) == pair.tgt
        assert g[0].tokens == b[0].tokens and b[0].score >= b[1].score


def test_bad_arguments_raise_value_error():
    with pytest.raises(
        ValueError, match=r"hidden \(30\) must be even and divisible by nhead \(4\)"
    ):
        make_transformer(10, 10, d_model=30, nhead=4)
    with pytest.raises(ValueError, match="positive"):
        make_transformer(10, 0)
    model = small_model(max_len=8)
    src, lengths, tgt = random_batch()
    with pytest.raises(ValueError, match="max_len"):
        model(src, lengths, torch.ones(4, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="lengths"):
        model(src, torch.tensor([1, 2]), tgt)
    with pytest.raises(ValueError, match="LongTensor"):
        model(src, lengths, tgt.float())
    with pytest.raises(ValueError, match="prev_tokens"):
        model.step(torch.ones(3, dtype=torch.long), model.init_state(src, lengths))


# --- the written-out decoder against PyTorch's nn.TransformerDecoderLayer -----------------------
# The decoder layer of companion.models.transformer replaced an nn.TransformerDecoder of
# nn.TransformerDecoderLayer(norm_first=True). These tests hold it to torch's layer on the same
# weights, and to translators saved with torch's layer (same state_dict keys).


class TorchDecoder(SequenceDecoder):
    """The decoder as built before its layers were written out: ``nn.TransformerDecoder`` with the
    same embedding, positions and output layer, re-running the prefix at every step. Its
    ``state_dict`` has the keys of the translators saved then."""

    def __init__(self, vocab_size, d_model, nhead, num_layers, dim_feedforward, dropout=0.0):
        super().__init__()
        self.hidden_size = d_model
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.register_buffer("positions", sinusoidal_positions(512, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerDecoderLayer(
            d_model, nhead, dim_feedforward, dropout, batch_first=True, norm_first=True
        )
        self.layers = nn.TransformerDecoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.out = nn.Linear(d_model, vocab_size)

    def init_state(self, enc):
        prefix = torch.empty(enc.outputs.shape[0], 0, dtype=torch.long)
        return prefix, enc.outputs, enc.mask

    def decode(self, tgt_in, state, *, need_weights=True):
        prefix, memory, mask = state
        tokens = torch.cat([prefix, tgt_in], dim=1)
        t = tokens.shape[1]
        x = self.embed(tokens) * math.sqrt(self.hidden_size) + self.positions[:t]
        hidden = self.layers(
            self.dropout(x),
            memory,
            tgt_mask=causal_mask(t),
            tgt_is_causal=True,
            memory_key_padding_mask=~mask,
        )
        return self.out(hidden[:, -tgt_in.shape[1] :]), None

    def step(self, prev_tokens, state):
        prefix, memory, mask = state
        prefix = torch.cat([prefix, prev_tokens[:, None]], dim=1)
        logits, _ = self.decode(prefix, (prefix[:, :0], memory, mask))
        return logits[:, -1], (prefix, memory, mask), None


class FixedDropout(nn.Module):
    """Dropout whose mask comes from its own seed: the same in two models, whatever the order in
    which they draw random numbers or lay out their tensors in memory. One mask ``[B, 1, D]`` for
    all positions, so a step of one position meets the mask of a whole sentence."""

    def __init__(self, p, seed):
        super().__init__()
        self.p, self.seed = p, seed

    def forward(self, x):
        if not self.training:
            return x
        g = torch.Generator().manual_seed(self.seed)
        keep = torch.rand(x.shape[0], 1, x.shape[-1], generator=g) >= self.p
        return x * keep.to(x.dtype) / (1 - self.p)


def fix_dropout_(layer, p=0.5):
    """Replace the four dropouts of a decoder layer by :class:`FixedDropout` s."""
    for seed, name in enumerate(["dropout", "dropout1", "dropout2", "dropout3"]):
        setattr(layer, name, FixedDropout(p, seed))


def jitter_(module, seed=0, scale=0.2):
    """Add noise to every parameter: LayerNorm scales ≠ 1, biases ≠ 0, so every term shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def cross_attention_weights_of(torch_layer, run, *, average):
    """The encoder–decoder weights torch's layer computes inside ``run()``, asked for with
    ``need_weights=True`` (what the decoder once forced through hooks): ``[B, T, S]`` averaged
    over heads or ``[B, H, T, S]``."""
    kept = {}

    def ask(module, args, kwargs):
        return args, {**kwargs, "need_weights": True, "average_attn_weights": average}

    def keep(module, args, output):
        kept["weights"] = output[1]

    hooks = [
        torch_layer.multihead_attn.register_forward_pre_hook(ask, with_kwargs=True),
        torch_layer.multihead_attn.register_forward_hook(keep),
    ]
    try:
        out = run()
    finally:
        for h in hooks:
            h.remove()
    return out, kept["weights"]


def layer_inputs(dtype, b=3, t=6, s=5, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, d, generator=g, dtype=dtype)
    memory = torch.randn(b, s, d, generator=g, dtype=dtype)
    source_mask = torch.arange(s)[None] < torch.tensor([s, 3, 1])[:b, None]  # True on real tokens
    return x, memory, source_mask


def torch_and_own_layer(dtype, dropout=0.0):
    torch.manual_seed(0)
    theirs = nn.TransformerDecoderLayer(
        16, 4, 32, dropout, batch_first=True, norm_first=True, dtype=dtype
    )
    jitter_(theirs)
    ours = DecoderLayer(16, 4, 32, dropout).to(dtype)
    ours.load_state_dict(theirs.state_dict())  # strict: every name matches
    return theirs, ours


def test_seeded_decoder_layers_start_with_torchs_names_and_weights():
    """Same names, shapes and initial values as nn.TransformerDecoder of torch's layers: a seed
    builds the same model as before the layer was written out, and old checkpoints fit."""
    torch.manual_seed(0)
    layer = nn.TransformerDecoderLayer(32, 4, 64, 0.1, batch_first=True, norm_first=True)
    theirs = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(32)).state_dict()
    torch.manual_seed(0)
    ours = DecoderStack(DecoderLayer(32, 4, 64, 0.1), 2, 32).state_dict()
    assert list(ours) == list(theirs)
    for name in theirs:
        assert torch.equal(ours[name], theirs[name]), name


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_decoder_layer_equals_torchs_with_causal_and_padding_masks(mode, dtype, atol):
    theirs, ours = torch_and_own_layer(dtype)
    theirs.train(mode == "train")
    ours.train(mode == "train")
    x, memory, source_mask = layer_inputs(dtype)
    expected = theirs(
        x,
        memory,
        tgt_mask=causal_mask(x.shape[1]),
        tgt_is_causal=True,
        memory_key_padding_mask=~source_mask,
    )
    out, weights = ours(x, memory, source_mask)
    assert weights is None  # not asked for
    torch.testing.assert_close(out, expected, atol=atol, rtol=0)
    # asking for the weights changes nothing else
    torch.testing.assert_close(ours(x, memory, source_mask, need_weights=True)[0], out)


@pytest.mark.parametrize("average", [True, False])
def test_attention_weights_equal_torchs_need_weights(average):
    """The encoder–decoder weights per head, and their average over heads (what the heat maps
    show), equal what torch returns with need_weights=True."""
    theirs, ours = torch_and_own_layer(torch.float64)
    theirs.eval()
    ours.eval()
    x, memory, source_mask = layer_inputs(torch.float64)
    _, expected = cross_attention_weights_of(
        theirs,
        lambda: theirs(x, memory, tgt_mask=causal_mask(6), memory_key_padding_mask=~source_mask),
        average=average,
    )
    weights = ours(x, memory, source_mask, need_weights=True)[1]  # [B, H, T, S]
    torch.testing.assert_close(weights.mean(1) if average else weights, expected)
    assert (weights.masked_select(~source_mask[:, None, None, :].expand_as(weights)) == 0).all()


def test_dropout_sits_where_torchs_layer_puts_it():
    """Train mode with dropout after each sub-layer and inside the feed-forward: the same masks in
    the same places give the same output as torch's layer; eval mode switches them all off."""
    theirs, ours = torch_and_own_layer(torch.float64, dropout=0.5)
    for model in (theirs, ours):
        model.self_attn.dropout = model.multihead_attn.dropout = 0.0  # weights: tested below
        fix_dropout_(model)
    x, memory, source_mask = layer_inputs(torch.float64)

    def run_theirs():
        return theirs(x, memory, tgt_mask=causal_mask(6), memory_key_padding_mask=~source_mask)

    outputs = {}
    for train in (True, False):
        theirs.train(train)
        ours.train(train)
        outputs[train] = ours(x, memory, source_mask)[0]
        torch.testing.assert_close(outputs[train], run_theirs())
    assert not torch.allclose(outputs[True], outputs[False], atol=0.1)  # the masks did act


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("causal", [True, False])
def test_attention_drops_weights_as_torchs_multihead_attention(causal, need_weights):
    """Train mode, dropout on the attention weights: with the same seed, the same weights are
    dropped as in nn.MultiheadAttention (both run the same kernels on tensors of the same layout:
    the fused one without weights, softmax then dropout with them)."""
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(16, 4, dropout=0.3, batch_first=True, dtype=torch.float64)
    ours = MultiHeadAttention(16, 4, dropout=0.3).double()
    ours.load_state_dict(jitter_(theirs).state_dict())
    x, memory, source_mask = layer_inputs(torch.float64)
    source = x if causal else memory
    masks = (
        dict(attn_mask=causal_mask(x.shape[1]), is_causal=True)
        if causal
        else dict(key_padding_mask=~source_mask)
    )
    torch.manual_seed(1)
    expected = theirs(x, source, source, need_weights=need_weights, **masks)[0]
    torch.manual_seed(1)
    out = ours(
        x,
        source,
        causal=causal,
        source_mask=None if causal else source_mask,
        need_weights=need_weights,
    )[0]
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out, theirs.eval()(x, source, source, **masks)[0], atol=1e-3)


def test_a_cached_step_applies_dropout_where_the_whole_sentence_does():
    """Train mode (teacher forcing below 1 steps the model while it trains): with the same dropout
    masks, cached steps compute what the parallel forward pass computes."""
    model = small_model(dropout=0.0).train()
    model.decoder.dropout = FixedDropout(0.5, 9)
    for layer in model.decoder.layers.layers:
        fix_dropout_(layer)
    src, lengths, tgt = random_batch()
    with torch.no_grad():
        full = model(src, lengths, tgt).log_softmax(-1)
        state = model.init_state(src, lengths)
        for t in range(tgt.shape[1]):
            log_probs, state = model.step(tgt[:, t], state)
            torch.testing.assert_close(log_probs, full[:, t])
        assert not torch.allclose(full, model.eval()(src, lengths, tgt).log_softmax(-1), atol=0.1)


def test_attention_weights_are_computed_only_when_asked():
    """Training passes (and plain forward passes) never ask for weights; attention_weights asks
    only the last layer's encoder–decoder attention."""
    model = small_model(dropout=0.1)
    asked = []

    def record(module, args, kwargs):
        asked.append((module, kwargs.get("need_weights", False)))

    for module in model.decoder.modules():
        if isinstance(module, MultiHeadAttention):
            module.register_forward_pre_hook(record, with_kwargs=True)
    src, lengths, tgt = random_batch()
    model.train()
    model(src, lengths, tgt).logsumexp(-1).mean().backward()  # the forward pass of training
    assert len(asked) == 4 and not any(need for _, need in asked)
    asked.clear()
    model.attention_weights(src, lengths, tgt)
    last_cross = model.decoder.layers.layers[-1].multihead_attn
    assert [m for m, need in asked if need] == [last_cross]


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_cached_steps_equal_rerunning_the_prefix_in_train_and_eval_mode(mode):
    model = small_model(dropout=0.0).train(mode == "train")
    src, lengths, tgt = random_batch(t=9)
    with torch.no_grad():
        cached = model.init_state(src, lengths)
        for t in range(tgt.shape[1]):
            log_probs, cached = model.step(tgt[:, t], cached)
            rerun = model.decoder.decode(tgt[:, : t + 1], model.init_state(src, lengths)[:3])
            torch.testing.assert_close(log_probs, rerun[0][:, -1].log_softmax(-1))


def translator_with_torchs_layers():
    """A translator model whose decoder is built from torch's layers (as before the decoder was
    written out here), and the settings it was built with."""
    settings = translation.TranslatorSettings(
        direction="en-zh", kind="transformer", hidden=16, layers=2, heads=4, max_len=8
    )
    torch.manual_seed(0)
    model = translation.build_model(settings, 11, 12)
    model.decoder = TorchDecoder(12, 16, 4, 2, 32, dropout=settings.dropout)
    return jitter_(model).eval(), settings


def test_weights_of_torchs_layers_load_into_the_translator_and_give_the_same_outputs():
    old, settings = translator_with_torchs_layers()
    new = translation.build_model(settings, 11, 12)  # what load_translator builds
    new.load_state_dict(old.state_dict())
    new.eval()
    assert isinstance(new.decoder, TransformerDecoder) and new.decoder.kv_cache
    src = torch.tensor([[4, 5, 6, 9, 10], [7, 8, 9, 0, 0]])
    lengths = torch.tensor([5, 3])
    tgt = torch.tensor([[1, 4, 5, 6, 9, 7], [1, 8, 10, 11, 2, 0]])
    with torch.no_grad():
        torch.testing.assert_close(new(src, lengths, tgt), old(src, lengths, tgt))
        last = old.decoder.layers.layers[-1]
        _, expected = cross_attention_weights_of(last, lambda: old(src, lengths, tgt), average=True)
        torch.testing.assert_close(new.attention_weights(src, lengths, tgt), expected)
        # beam search with the key/value cache finds what torch's layers find re-running the prefix
        found = [
            decoding.beam_search(
                model.step,
                model.init_state(src, lengths),
                bos_id=1,
                eos_id=2,
                beam_width=3,
                n_best=3,
                max_len=8,
            )
            for model in (new, old)
        ]
    for ours, theirs in zip(*found, strict=True):
        assert [h.tokens for h in ours] == [h.tokens for h in theirs]
        assert all(abs(a.score - b.score) < 1e-5 for a, b in zip(ours, theirs, strict=True))
