import pytest
import torch

from companion.data import (
    CaptionData,
    Pair,
    Seq2SeqData,
    Vocab,
    chinese_number,
    english_number,
    generate_pairs,
    generate_shapes,
    lengths_to_mask,
    pad_sequences,
    split_pairs,
    tokenize,
    tokenize_en,
    tokenize_zh,
)
from companion.data.text_tasks import TASKS


@pytest.mark.parametrize(
    "n, expected",
    [
        (0, "零"),
        (1, "一"),
        (10, "十"),
        (11, "十一"),
        (15, "十五"),
        (20, "二十"),
        (99, "九十九"),
        (100, "一百"),
        (101, "一百零一"),
        (105, "一百零五"),
        (110, "一百一十"),
        (115, "一百一十五"),
        (321, "三百二十一"),
        (1000, "一千"),
        (1001, "一千零一"),
        (1010, "一千零一十"),
        (1100, "一千一百"),
        (1234, "一千二百三十四"),
        (2019, "二千零一十九"),
        (9009, "九千零九"),
        (9999, "九千九百九十九"),
    ],
)
def test_chinese_number_rules(n, expected):
    assert chinese_number(n) == expected


def _reference_chinese(n: int) -> str:
    """An independent reading of n: digit by digit from the left, collapsing zero runs."""
    if n == 0:
        return "零"
    units = {3: "千", 2: "百", 1: "十", 0: ""}
    s = str(n)
    parts = []
    for k, ch in enumerate(s):
        power = len(s) - 1 - k
        parts.append("零" if ch == "0" else "零一二三四五六七八九"[int(ch)] + units[power])
    text = "".join(parts).rstrip("零")
    while "零零" in text:
        text = text.replace("零零", "零")
    return text[1:] if text.startswith("一十") else text


def test_chinese_number_all_values_against_reference():
    for n in range(10000):
        assert chinese_number(n) == _reference_chinese(n), n


def test_english_number_examples():
    assert english_number(321) == "three hundred and twenty one"
    assert english_number(1010) == "one thousand and ten"
    assert english_number(7000) == "seven thousand"
    assert english_number(13) == "thirteen"


@pytest.mark.parametrize(
    "bad,error",
    [(-1, ValueError), (10000, ValueError), (2.5, TypeError), ("7", TypeError), (True, TypeError)],
)
def test_numbers_reject_bad_input(bad, error):
    with pytest.raises(error, match="n must be an integer in"):
        chinese_number(bad)
    with pytest.raises(error, match="n must be an integer in"):
        english_number(bad)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_generators_are_deterministic_and_round_trip(task):
    a = generate_pairs(task, 50, seed=3)
    assert a == generate_pairs(task, 50, seed=3)
    assert a != generate_pairs(task, 50, seed=4)
    spec = TASKS[task]
    data = Seq2SeqData.from_pairs(a, spec.src_lang, spec.tgt_lang)
    for pair, s, t in zip(a, data.src_ids, data.tgt_ids, strict=True):
        assert data.src_vocab.decode(s) == tokenize(pair.src, spec.src_lang)
        assert data.tgt_vocab.decode(t) == tokenize(pair.tgt, spec.tgt_lang)


def test_dates_need_reordering_and_are_valid():
    for p in generate_pairs("dates", 200, seed=0):
        month, day, year = p.src.split()
        assert p.tgt.startswith(year + "年") and p.tgt.endswith(f"{int(day)}日")


def test_n_items_controls_length():
    short = generate_pairs("dates", 20, seed=0, n_items=1)
    long = generate_pairs("dates", 20, seed=0, n_items=4)
    assert all(len(p.src.split()) == 3 for p in short)
    assert all(len(tokenize_en(p.src)) == 4 * 3 + 3 for p in long)  # three commas between items
    ranged = generate_pairs("numbers", 50, seed=0, n_items=(1, 3))
    assert {p.tgt.count("，") for p in ranged} == {0, 1, 2}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(task="nope", n=3), r"unknown task 'nope'; choose one of \['dates', "),
        (dict(task="dates", n=0), r"n \(the number of examples\) must be .* got 0"),
        (dict(task="dates", n=3, n_items=0), r"n_items must be an integer in \[1, 100\], got 0"),
        (dict(task="dates", n=3, n_items=(3, 2)), r"n_items\[1\] \(high\) must be .* got 2"),
    ],
)
def test_generate_pairs_validates(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_pairs(**kwargs)


def test_split_is_seeded_disjoint_and_complete():
    pairs = generate_pairs("numbers", 500, seed=0)
    tr, va, te = split_pairs(pairs, seed=1)
    assert split_pairs(pairs, seed=1) == [tr, va, te]
    srcs = [{p.src for p in part} for part in (tr, va, te)]
    assert not (srcs[0] & srcs[1] or srcs[0] & srcs[2] or srcs[1] & srcs[2])
    assert sum(map(len, srcs)) == len({p.src for p in pairs})
    with pytest.raises(ValueError, match="cannot split an empty list of pairs"):
        split_pairs([], seed=0)
    with pytest.raises(ValueError, match=r"fractions must sum to 1, got \(0.5, 0.6\) \(sum 1.1\)"):
        split_pairs(pairs, (0.5, 0.6))


def test_tokenizers():
    assert tokenize_en("It's OK, Tom!") == ["it's", "ok", ",", "tom", "!"]
    assert tokenize_zh("2019年 3月") == ["2", "0", "1", "9", "年", "3", "月"]
    with pytest.raises(ValueError, match=r"unknown lang 'fr'; choose one of \['en', 'zh'\]"):
        tokenize("x", "fr")
    with pytest.raises(TypeError, match="text must be a string"):
        tokenize_en(None)


def test_vocab_specials_unknown_and_errors():
    v = Vocab.build([["a", "b", "b"], ["c"]])
    assert v.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert v.itos[4] == "b"  # most frequent first
    assert v.encode(["a", "zzz"], add_bos=True, add_eos=True) == [1, v.stoi["a"], 3, 2]
    assert v.decode([1, v.stoi["a"], 2, v.stoi["b"]]) == ["a"]
    with pytest.raises(ValueError, match="id 99 is outside this vocabulary of size 7"):
        v.decode([99])
    with pytest.raises(TypeError, match="tokenise it first"):
        v.encode("ab")
    with pytest.raises(ValueError, match="cannot build a vocabulary from no tokens"):
        Vocab.build([[], []])


def test_padding_and_masks():
    padded, lengths = pad_sequences([[5, 6, 7], [8]], pad_id=0)
    assert padded.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths.tolist() == [3, 1]
    assert lengths_to_mask(lengths).tolist() == [[True, True, True], [True, False, False]]
    with pytest.raises(ValueError, match="cannot pad an empty batch"):
        pad_sequences([])
    with pytest.raises(ValueError, match="every sequence in a batch needs at least one token"):
        pad_sequences([[1], []])


def test_seq2seq_batch_shifts_targets_and_masks_padding():
    pairs = [Pair("one", "一"), Pair("twenty one", "二十一")]
    data = Seq2SeqData.from_pairs(pairs, "en", "zh")
    b = data.batch([0, 1])
    v = data.tgt_vocab
    assert b.src.shape == (2, 2) and b.src_lengths.tolist() == [1, 2]
    assert b.tgt_in[:, 0].tolist() == [v.bos_id, v.bos_id]
    assert b.tgt_out[0].tolist() == [v.stoi["一"], v.eos_id, v.pad_id, v.pad_id]
    assert b.tgt_mask.sum(1).tolist() == [2, 4]
    shifted = b.tgt_mask[:, 1:]  # tgt_in is tgt_out moved one step right
    assert torch.equal(b.tgt_in[:, 1:][shifted], b.tgt_out[:, :-1][shifted])
    assert (b.src[~b.src_mask] == v.pad_id).all()


def test_batches_cover_every_example_once_and_shuffle_by_seed():
    data = Seq2SeqData.from_pairs(generate_pairs("numbers", 103, seed=0), "en", "zh")
    it = data.batches(10, shuffle=True, seed=0)
    assert len(it) == 11
    first = [b.src_lengths.sum().item() for b in it]
    assert sum(len(b) for b in it) == 103
    assert first != [b.src_lengths.sum().item() for b in it]  # a new order every epoch
    with pytest.raises(ValueError, match="batch_size must be an integer ≥ 1, got 0"):
        data.batches(0)


def test_batches_by_length_cut_padding_and_still_cover_every_example_once():
    pairs = generate_pairs("numbers", 1000, seed=0, n_items=(1, 4))
    data = Seq2SeqData.from_pairs(pairs, "en", "zh")

    def padding(batches) -> int:
        return sum(int((~b.src_mask).sum() + (~b.tgt_mask).sum()) for b in batches)

    grouped = data.batches(10, shuffle=True, by_length=True, seed=0)
    sources = sorted(
        tuple(row[mask].tolist())
        for b in grouped
        for row, mask in zip(b.src, b.src_mask, strict=True)
    )
    assert sources == sorted(tuple(ids) for ids in data.src_ids)  # every example once
    assert len(grouped) == 100 and all(len(b) == 10 for b in grouped)
    assert padding(grouped) < padding(data.batches(10, shuffle=True, seed=0)) / 3
    lengths = data.lengths()
    assert lengths[0] == len(data.src_ids[0]) + len(data.tgt_ids[0])
    first = [b.src_lengths.tolist() for b in grouped]
    assert first != [b.src_lengths.tolist() for b in grouped]  # batches reshuffled every epoch
    ordered = [b.src_lengths.max().item() for b in data.batches(10, by_length=True)]
    assert ordered[:50] == sorted(ordered[:50])  # without shuffle: sorted within the pool
    with pytest.raises(ValueError, match="lengths"):  # a data set without lengths()
        CaptionData.from_shapes(generate_shapes(2), "en").batches(4, by_length=True)


def test_unknown_source_words_become_unk():
    data = Seq2SeqData.from_pairs(generate_pairs("numbers", 50, seed=0), "en", "zh")
    src, _ = data.encode_source(["zebra one"])
    assert src[0, 0].item() == data.src_vocab.unk_id
    with pytest.raises(ValueError, match="cannot encode an empty sentence: ' '"):
        data.encode_source([" "])
