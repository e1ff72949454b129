"""Tokenisers and a vocabulary: word-level English, character-level Chinese."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from companion.validation import check_choice, check_int, check_str, describe, is_integer

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)

# A word is a run of letters and digits of any alphabet (café, naïve, zürich, señor), with an
# optional 's-style suffix; Chinese/Japanese/Korean characters and every other non-space symbol
# are tokens of their own.
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_EN_TOKEN = re.compile(rf"[^\W_{_CJK}]+(?:'[^\W\d_{_CJK}]+)?|\S")


def tokenize_en(text: str) -> list[str]:
    """Lower-case English words; punctuation becomes its own token ("it's ok." → it's ok .).

    Letters outside ASCII belong to their word ("Café" → "café"); the text is put in Unicode
    NFC form first, so an "é" typed as "e" + combining accent is the same token.
    """
    _check_text(text)
    return _EN_TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def tokenize_zh(text: str) -> list[str]:
    """One token per Chinese character (and per other non-space character); spaces are dropped."""
    _check_text(text)
    return [ch for ch in text if not ch.isspace()]


TOKENIZERS = {"en": tokenize_en, "zh": tokenize_zh}


def tokenize(text: str, lang: str) -> list[str]:
    """Tokenise ``text`` as language ``lang`` (``"en"``: words, ``"zh"``: characters)."""
    check_choice(lang, "lang", sorted(TOKENIZERS))
    return TOKENIZERS[lang](text)


def detokenize(tokens: Sequence[str], lang: str) -> str:
    """Inverse of :func:`tokenize` up to spacing: English joins with spaces, Chinese without."""
    _check_tokens(tokens, "tokens")
    check_choice(lang, "lang", sorted(TOKENIZERS))
    return ("" if lang == "zh" else " ").join(tokens)


def _check_text(text: str) -> None:
    check_str(text, "text")


def _check_tokens(tokens: Sequence[str], name: str) -> None:
    if isinstance(tokens, str):
        raise TypeError(
            f"{name} must be a list of tokens, got the string {describe(tokens)}; "
            "tokenise it first, e.g. tokenize(text, 'en')"
        )
    if not isinstance(tokens, Sequence):
        raise TypeError(f"{name} must be a list of tokens, got {describe(tokens)}")
    for i, tok in enumerate(tokens):
        if not isinstance(tok, str):
            raise TypeError(f"{name}[{i}] must be a string token, got {describe(tok)}")


class Vocab:
    """A token ↔ id mapping with the specials ``<pad>=0 <bos>=1 <eos>=2 <unk>=3``.

    Unknown tokens map to ``<unk>``. Build one with :meth:`build` from tokenised sentences.
    """

    def __init__(self, tokens: Iterable[str]):
        if isinstance(tokens, str) or not isinstance(tokens, Iterable):
            raise TypeError(f"tokens must be a list of token strings, got {describe(tokens)}")
        self.itos: list[str] = list(SPECIALS)
        for tok in tokens:
            if not isinstance(tok, str):
                raise TypeError(f"vocabulary tokens must be strings, got {describe(tok)}")
            if tok not in SPECIALS:
                self.itos.append(tok)
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("vocabulary tokens must be unique")

    @classmethod
    def build(
        cls, sentences: Iterable[Sequence[str]], *, min_freq: int = 1, max_size: int | None = None
    ) -> Vocab:
        """Keep tokens seen at least ``min_freq`` times, most frequent first (ties: alphabetical).

        ``max_size`` (if given) keeps only that many of them, besides the four specials.
        """
        check_int(min_freq, "min_freq", min=1)
        if max_size is not None:
            check_int(max_size, "max_size", min=0)
        if isinstance(sentences, str) or not isinstance(sentences, Iterable):
            raise TypeError(f"sentences must be a list of token lists, got {describe(sentences)}")
        counts: Counter = Counter()
        for i, sent in enumerate(sentences):
            _check_tokens(sent, f"sentences[{i}]")
            counts.update(sent)
        if not counts:
            raise ValueError("cannot build a vocabulary from no tokens: the sentences are empty")
        ranked = sorted(
            (t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t)
        )
        return cls(ranked[:max_size] if max_size is not None else ranked)

    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        preview = " ".join(self.itos[4:12])
        return f"Vocab(size={len(self)}, first tokens: {preview} …)"

    def encode(
        self, tokens: Sequence[str], *, add_bos: bool = False, add_eos: bool = False
    ) -> list[int]:
        _check_tokens(tokens, "tokens")
        ids = [self.stoi.get(tok, self.unk_id) for tok in tokens]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def encode_text(self, text: str, lang: str) -> list[int]:
        """Tokenise ``text`` as language ``lang`` and encode it (unknown tokens become ``<unk>``).

        Subword vocabularies (:class:`~companion.data.subwords.SubwordVocab`) read the text with
        their own model instead."""
        return self.encode(tokenize(text, lang))

    def decode_text(self, ids: Iterable[int], lang: str) -> str:
        """The text of ``ids`` up to ``<eos>``: tokens joined as :func:`detokenize` joins them."""
        return detokenize(self.decode(ids), lang)

    def unseen_words(self, text: str, lang: str) -> list[str]:
        """The tokens of ``text`` that this vocabulary does not hold (they become ``<unk>``), each
        once, in order."""
        return list(dict.fromkeys(t for t in tokenize(text, lang) if t not in self.stoi))

    def decode(
        self, ids: Iterable[int], *, strip_specials: bool = True, stop_at_eos: bool = True
    ) -> list[str]:
        """Map ids back to tokens; by default stop at ``<eos>`` and drop ``<pad>``/``<bos>``."""
        if isinstance(ids, str) or not isinstance(ids, Iterable):
            raise TypeError(f"ids must be a list (or 1-D tensor) of token ids, got {describe(ids)}")
        out = []
        for i in ids:
            if not is_integer(i):
                raise TypeError(f"token ids must be integers, got {describe(i)}")
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside this vocabulary of size {len(self)}")
            if stop_at_eos and i == self.eos_id:
                break
            if strip_specials and i in (self.pad_id, self.bos_id, self.eos_id):
                continue
            out.append(self.itos[i])
        return out


def extend_with_source(
    tokens: Sequence[str], vocab: Vocab, n_extra: int
) -> tuple[list[int], list[str]]:
    """The ids of a source sentence's ``tokens`` in ``vocab`` extended by the sentence's own words.

    A token ``vocab`` has keeps its id; the k-th distinct token it lacks gets ``len(vocab) + k``
    (for ``k < n_extra``; later ones get ``<unk>``). Returns the ids and the extra words in slot
    order — what a copy mechanism (:mod:`companion.models.pointer`) needs to copy a word that it
    cannot generate, and :func:`decode_extended` to write it back.
    """
    _check_tokens(tokens, "tokens")
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a Vocab, got {describe(vocab)}")
    check_int(n_extra, "n_extra", min=0)
    ids: list[int] = []
    extra: list[str] = []
    for tok in tokens:
        if tok in vocab.stoi:
            ids.append(vocab.stoi[tok])
        elif tok in extra:
            ids.append(len(vocab) + extra.index(tok))
        elif len(extra) < n_extra:
            extra.append(tok)
            ids.append(len(vocab) + len(extra) - 1)
        else:
            ids.append(vocab.unk_id)
    return ids, extra


def decode_extended(ids: Iterable[int], vocab: Vocab, extra: Sequence[str]) -> list[str]:
    """:meth:`Vocab.decode` for ids of an extended vocabulary: id ``len(vocab) + k`` is
    ``extra[k]`` (the words :func:`extend_with_source` returned for the same sentence)."""
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a Vocab, got {describe(vocab)}")
    _check_tokens(extra, "extra")
    return Vocab(vocab.itos[len(SPECIALS) :] + list(extra)).decode(ids)
