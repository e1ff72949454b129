"""Tokenisers and a vocabulary: word-level English, character-level Chinese."""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)

_EN_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def tokenize_en(text: str) -> list[str]:
    """Lower-case English words; punctuation becomes its own token ("it's ok." → it's ok .)."""
    _check_text(text)
    return _EN_TOKEN.findall(text.lower())


def tokenize_zh(text: str) -> list[str]:
    """One token per Chinese character (and per other non-space character); spaces are dropped."""
    _check_text(text)
    return [ch for ch in text if not ch.isspace()]


TOKENIZERS = {"en": tokenize_en, "zh": tokenize_zh}


def tokenize(text: str, lang: str) -> list[str]:
    if lang not in TOKENIZERS:
        raise ValueError(f"unknown language {lang!r}; choose one of {sorted(TOKENIZERS)}")
    return TOKENIZERS[lang](text)


def detokenize(tokens: Sequence[str], lang: str) -> str:
    """Inverse of :func:`tokenize` up to spacing: English joins with spaces, Chinese without."""
    return ("" if lang == "zh" else " ").join(tokens)


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise ValueError(f"expected a string, got {type(text).__name__}")


class Vocab:
    """A token ↔ id mapping with the specials ``<pad>=0 <bos>=1 <eos>=2 <unk>=3``.

    Unknown tokens map to ``<unk>``. Build one with :meth:`build` from tokenised sentences.
    """

    def __init__(self, tokens: Iterable[str]):
        self.itos: list[str] = list(SPECIALS)
        for tok in tokens:
            if tok not in SPECIALS:
                self.itos.append(tok)
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("vocabulary tokens must be unique")

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], *, min_freq: int = 1,
              max_size: int | None = None) -> "Vocab":
        """Keep tokens seen at least ``min_freq`` times, most frequent first (ties: alphabetical)."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be ≥ 1, got {min_freq}")
        counts = Counter(tok for sent in sentences for tok in sent)
        if not counts:
            raise ValueError("cannot build a vocabulary from no tokens: the sentences are empty")
        ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls(ranked[:max_size] if max_size is not None else ranked)

    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        preview = " ".join(self.itos[4:12])
        return f"Vocab(size={len(self)}, first tokens: {preview} …)"

    def encode(self, tokens: Sequence[str], *, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        if isinstance(tokens, str):
            raise ValueError("encode expects a list of tokens; tokenise the string first")
        ids = [self.stoi.get(tok, self.unk_id) for tok in tokens]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int], *, strip_specials: bool = True, stop_at_eos: bool = True) -> list[str]:
        """Map ids back to tokens; by default stop at ``<eos>`` and drop ``<pad>``/``<bos>``."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside this vocabulary of size {len(self)}")
            if stop_at_eos and i == self.eos_id:
                break
            if strip_specials and i in (self.pad_id, self.bos_id, self.eos_id):
                continue
            out.append(self.itos[i])
        return out
