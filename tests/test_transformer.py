"""Transformer encoder–decoder: causal and padding masks, step interface, training, searches."""

import pytest
import torch

from companion import decoding
from companion.data import Seq2SeqData, generate_pairs
from companion.models import make_transformer
from companion.models.transformer import causal_mask
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
                assert (
                    self_keys.shape == self_values.shape == (4, 4, t + 1, 8)
                )  # one new key per step
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
    with pytest.raises(ValueError):
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
