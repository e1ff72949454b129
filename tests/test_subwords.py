"""Subword vocabularies (SentencePiece): text round-trips, no <unk>, unseen words, saving."""

import io

import pytest
import torch

from companion.data.batching import Seq2SeqData
from companion.data.subwords import N_BYTES, SubwordVocab, words_of
from companion.data.text_tasks import Pair
from companion.data.vocab import SPECIALS, Vocab

ENGLISH = [
    "I don't know what to do.",
    "Tom is reading a book.",
    "Please close the window.",
    "She has been reading all afternoon.",
    "What do you want to do tomorrow?",
    "I know Tom doesn't like cats.",
    "Where is the station?",
    "It's OK, I'll do it.",
] * 3
CHINESE = [
    "我不知道该做什么。",
    "汤姆在看书。",
    "请把窗户关上。",
    "你好，世界。",
    "车站在哪里？",
] * 3


@pytest.fixture(scope="module")
def en():
    return SubwordVocab.train(ENGLISH, lang="en", vocab_size=400)


@pytest.fixture(scope="module")
def zh():
    return SubwordVocab.train(CHINESE, lang="zh")


def test_specials_keep_the_ids_of_vocab(en, zh):
    for vocab in (en, zh):
        assert tuple(vocab.itos[:4]) == SPECIALS
        assert (vocab.pad_id, vocab.bos_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2, 3)
        assert vocab.itos[4] == "<0x00>" and vocab.itos[3 + N_BYTES] == "<0xFF>"


@pytest.mark.parametrize(
    "text",
    [
        "I don't know what to do.",
        "Tom's café in Zürich isn't open: 🙂",  # letters and a symbol it never saw
        "  Two  spaces,  CAPITALS and numbers 1234!",
    ],
)
def test_english_text_round_trips_cased_and_never_becomes_unk(en, text):
    ids = en.encode_text(text)
    assert en.unk_id not in ids
    assert en.decode_text(ids) == " ".join(text.split())  # spacing normalised, nothing else


def test_english_output_is_detokenised(en):
    pieces = en.pieces("I don't know what to do.")
    assert pieces[0].startswith("▁") and pieces[-1] == "."  # the full stop is glued to "do"
    assert en.decode_text(en.encode_text("It's OK.") + [en.eos_id, 10]) == "It's OK."


def test_chinese_is_one_piece_per_character_and_keeps_full_width_punctuation(zh):
    text = "你好，世界。"
    assert zh.pieces(text) == list(text)
    assert zh.decode_text(zh.encode_text(text)) == text
    unseen = "龘"  # not in the training text: written as its three UTF-8 bytes
    assert zh.pieces(unseen) == ["<0xE9>", "<0xBE>", "<0x98>"]
    assert zh.decode_text(zh.encode_text("你好龘")) == "你好龘"


def test_special_ids_never_reach_the_text(en):
    hello = en.encode_text("Tom")
    assert en.decode_text([en.bos_id, *hello, en.unk_id, en.pad_id]) == "Tom"
    assert en.decode_text([*hello, en.eos_id, *hello]) == "Tom"  # stops at <eos>
    with pytest.raises(ValueError, match="outside"):
        en.decode_text([len(en)])


def test_words_of_both_languages():
    assert words_of("Tom's café, isn't it? 1234", "en") == ["Tom's", "café", "isn't", "it", "1234"]
    assert words_of("汤姆(Tom)在看书。", "zh") == ["汤", "姆", "Tom", "在", "看", "书"]


def test_unseen_words_are_the_words_not_in_training_or_in_bytes(en, zh):
    # "It's", "OK" and "Tom" were seen (case does not matter); "readings" was not, although its
    # pieces are all known; "Zürich" falls back to bytes for ü
    assert en.unseen_words("IT'S ok, tom: readings in Zürich, Tom.") == [
        "readings",
        "in",
        "Zürich",
    ]
    assert all(p in en.stoi for p in en.pieces("readings"))  # known pieces, unseen word
    assert en.falls_back_to_bytes("Zürich") and not en.falls_back_to_bytes("readings")
    assert en.unseen_words("I don't know.") == []
    assert zh.unseen_words("你好，龘世界猫。") == ["龘", "猫"]
    # the same definition on a word-level vocabulary: the tokens that become <unk>
    assert Vocab(["i", "like"]).unseen_words("I like green tea", "en") == ["green", "tea"]


def test_state_round_trips_through_torch_load_weights_only(en, zh, tmp_path):
    path = tmp_path / "vocabs.pt"
    torch.save({"en": en.state(), "zh": zh.state()}, path)
    loaded = torch.load(path, weights_only=True)
    for vocab, state in ((en, loaded["en"]), (zh, loaded["zh"])):
        again = SubwordVocab.from_state(state)
        assert again.itos == vocab.itos and again.words == vocab.words
        assert again.model_proto == vocab.model_proto and again.lang == vocab.lang
        for text in ENGLISH[:3] + CHINESE[:3]:
            assert again.encode_text(text) == vocab.encode_text(text)


def test_training_is_deterministic(en):
    again = SubwordVocab.train(ENGLISH, lang="en", vocab_size=400)
    assert again.model_proto == en.model_proto


def test_seq2seq_data_reads_text_through_the_vocabulary(en, zh):
    data = Seq2SeqData([Pair("I don't know.", "我不知道。")], "en", "zh", en, zh)
    assert data.src_ids[0] == en.encode_text("I don't know.")
    assert data.tgt_ids[0] == zh.encode_text("我不知道。")
    src, lengths = data.encode_source(["Tom?", "Where is the station?"])
    assert lengths.tolist() == [
        len(en.encode_text("Tom?")),
        len(en.encode_text("Where is the station?")),
    ]


def test_bad_input_is_refused(en):
    with pytest.raises(ValueError, match="not 'zh'"):
        en.encode_text("hello", "zh")
    with pytest.raises(ValueError, match="empty"):
        SubwordVocab.train(["  ", ""], lang="en", vocab_size=400)
    with pytest.raises(ValueError, match="vocab_size"):
        SubwordVocab.train(ENGLISH, lang="en", vocab_size=10)
    with pytest.raises(TypeError, match="list of strings"):
        SubwordVocab.train("just one string", lang="en", vocab_size=400)
    with pytest.raises(ValueError, match="not a SentencePiece model"):
        SubwordVocab(b"junk", lang="en")
    with pytest.raises(ValueError, match="not a saved subword vocabulary"):
        SubwordVocab.from_state({"model": en.model_proto})
    buffer = io.BytesIO()
    torch.save({"x": 1}, buffer)  # another file's bytes are no model either
    with pytest.raises(ValueError, match="not a SentencePiece model"):
        SubwordVocab(buffer.getvalue(), lang="en")
