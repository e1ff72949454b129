"""Turn token sequences into padded tensors with lengths and masks, and data sets into batches.

:func:`pad_sequences` and :func:`pad_targets` are the only padding code of the companion;
:class:`BatchedData` gives every data set (sentence pairs here, captioned images in
:mod:`companion.data.shapes`) the same ``batches()``."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import torch

from companion import model_utils
from companion.data.text_tasks import Pair, check_pairs
from companion.data.vocab import TOKENIZERS, Vocab, tokenize
from companion.validation import (
    check_bool,
    check_choice,
    check_int,
    check_seed,
    check_str_sequence,
    check_tensor,
    describe,
)


def pad_sequences(
    seqs: Sequence[Sequence[int]], pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into a ``LongTensor[B, T]``; also return their lengths ``[B]``."""
    if isinstance(seqs, (str, bytes)) or not isinstance(seqs, Sequence):
        raise TypeError(f"seqs must be a list of token-id lists, got {describe(seqs)}")
    check_int(pad_id, "pad_id", min=0)
    if len(seqs) == 0:
        raise ValueError("cannot pad an empty batch")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if (lengths == 0).any():
        raise ValueError("every sequence in a batch needs at least one token")
    out = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out, lengths


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """``mask[b, t]`` is True for real tokens (``t < lengths[b]``) and False for padding."""
    check_tensor(lengths, "lengths", dim=1, dtype="int", nonempty=True)
    if bool((lengths < 0).any()):
        raise ValueError(f"lengths must be ≥ 0, got {lengths.tolist()}")
    max_len = int(lengths.max()) if max_len is None else check_int(max_len, "max_len", min=0)
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def encode_sentences(
    sentences: str | Sequence[str], vocab: Vocab, lang: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode sentences of language ``lang`` with ``vocab`` (:meth:`Vocab.encode_text`: unknown
    words become ``<unk>``, a subword vocabulary spells them) and pad them:
    ``(ids [B, S], lengths [B])``."""
    sentences = (
        [sentences] if isinstance(sentences, str) else check_str_sequence(sentences, "sentences")
    )
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a Vocab, got {describe(vocab)}")
    ids = []
    for s in sentences:
        encoded = vocab.encode_text(s, lang)
        if not encoded:
            raise ValueError(f"cannot encode an empty sentence: {s!r}")
        ids.append(encoded)
    return pad_sequences(ids, vocab.pad_id)


def pad_targets(
    tgt_ids: Sequence[Sequence[int]], vocab: Vocab
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Decoder input ``<bos> y``, decoder target ``y <eos>`` (both ``[B, T]``)
    and the target mask.
    """
    tgt_in, _ = pad_sequences([[vocab.bos_id, *ids] for ids in tgt_ids], vocab.pad_id)
    tgt_out, lengths = pad_sequences([[*ids, vocab.eos_id] for ids in tgt_ids], vocab.pad_id)
    return tgt_in, tgt_out, lengths_to_mask(lengths)


class TensorBatch:
    """Base of the batch dataclasses, whose fields
    are all tensors: ``to(device)`` moves them all.
    """

    __dataclass_fields__: ClassVar[dict[str, Any]]  # every subclass is a dataclass

    def to(self, device: torch.device | str):
        return type(self)(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


class BatchedData(ABC):
    """Base of the data sets: subclasses give ``__len__`` and ``batch(indices)``; this adds
    ``batches`` (what :func:`companion.train.fit` iterates over)."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of examples."""

    @abstractmethod
    def batch(self, indices: Sequence[int]) -> TensorBatch:
        """The examples at ``indices``, padded into one batch."""

    def batches(
        self, batch_size: int, *, shuffle: bool = False, by_length: bool = False, seed: int = 0
    ) -> BatchIterable:
        """A re-iterable of batches (a new seeded shuffle every pass when ``shuffle``).

        ``by_length`` (data sets with :meth:`lengths` only) puts examples of similar length in one
        batch, so that little of each batch is padding: every pool of 50 batches' worth of
        (shuffled) examples is sorted by length before it is cut, and the batches are shuffled.
        """
        check_int(batch_size, "batch_size", min=1)
        check_bool(shuffle, "shuffle")
        check_bool(by_length, "by_length")
        check_seed(seed)
        if by_length and not hasattr(self, "lengths"):
            raise ValueError(
                f"{type(self).__name__} has no lengths(), so it cannot batch by length"
            )
        return BatchIterable(self, batch_size, shuffle, seed, by_length=by_length)


@dataclass
class Seq2SeqBatch(TensorBatch):
    """A padded batch. ``tgt_in`` starts with ``<bos>``;
    ``tgt_out`` is shifted and ends with ``<eos>``.
    """

    src: torch.Tensor  # [B, S]
    src_lengths: torch.Tensor  # [B]
    src_mask: torch.Tensor  # [B, S] True on real tokens
    tgt_in: torch.Tensor  # [B, T]
    tgt_out: torch.Tensor  # [B, T]
    tgt_mask: torch.Tensor  # [B, T]

    def __len__(self) -> int:
        return self.src.shape[0]


class Seq2SeqData(BatchedData):
    """Sentence pairs together with their tokenisation and vocabularies.

    ``Seq2SeqData.from_pairs(train, "en", "zh")`` builds vocabularies from the training pairs;
    pass ``src_vocab``/``tgt_vocab`` to reuse them for validation and test pairs.
    """

    def __init__(
        self,
        pairs: Sequence[Pair],
        src_lang: str,
        tgt_lang: str,
        src_vocab: Vocab,
        tgt_vocab: Vocab,
    ):
        check_pairs(pairs)
        check_choice(src_lang, "src_lang", sorted(TOKENIZERS))
        check_choice(tgt_lang, "tgt_lang", sorted(TOKENIZERS))
        for name, vocab in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
            if not isinstance(vocab, Vocab):
                raise TypeError(f"{name} must be a Vocab, got {describe(vocab)}")
        self.pairs = list(pairs)
        self.src_lang, self.tgt_lang = src_lang, tgt_lang
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.src_ids, self.tgt_ids = [], []
        for k, p in enumerate(self.pairs):
            s, t = src_vocab.encode_text(p.src, src_lang), tgt_vocab.encode_text(p.tgt, tgt_lang)
            if not s or not t:
                raise ValueError(f"pair {k} has an empty side: {p!r}")
            self.src_ids.append(s)
            self.tgt_ids.append(t)

    @classmethod
    def from_pairs(
        cls,
        pairs: Sequence[Pair],
        src_lang: str,
        tgt_lang: str,
        *,
        src_vocab: Vocab | None = None,
        tgt_vocab: Vocab | None = None,
    ) -> Seq2SeqData:
        check_pairs(pairs)
        src_vocab = src_vocab or Vocab.build(tokenize(p.src, src_lang) for p in pairs)
        tgt_vocab = tgt_vocab or Vocab.build(tokenize(p.tgt, tgt_lang) for p in pairs)
        return cls(pairs, src_lang, tgt_lang, src_vocab, tgt_vocab)

    def __len__(self) -> int:
        return len(self.pairs)

    def batch(self, indices: Sequence[int]) -> Seq2SeqBatch:
        """Pad the examples at ``indices`` into one :class:`Seq2SeqBatch`."""
        src, src_len = pad_sequences([self.src_ids[i] for i in indices], self.src_vocab.pad_id)
        tgt_in, tgt_out, tgt_mask = pad_targets([self.tgt_ids[i] for i in indices], self.tgt_vocab)
        return Seq2SeqBatch(src, src_len, lengths_to_mask(src_len), tgt_in, tgt_out, tgt_mask)

    def lengths(self) -> list[int]:
        """Source plus target tokens of every example
        (what ``batches(by_length=True)`` sorts by).
        """
        return [len(s) + len(t) for s, t in zip(self.src_ids, self.tgt_ids, strict=True)]

    def encode_source(self, sentences: str | Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokenise, encode and pad new source sentences (unknown words become ``<unk>``)."""
        return encode_sentences(sentences, self.src_vocab, self.src_lang)


class BatchIterable:
    """The batches of a data set in order (or shuffled anew on every pass, seeded), optionally
    grouped by example length (see :meth:`BatchedData.batches`)."""

    POOL = 50  # batches' worth of examples sorted together when grouping by length

    def __init__(
        self,
        data: model_utils.SupportsBatch,
        batch_size: int,
        shuffle: bool,
        seed: int,
        *,
        by_length: bool = False,
    ):
        self.data, self.batch_size, self.shuffle, self.by_length = (
            data,
            batch_size,
            shuffle,
            by_length,
        )
        self._rng = random.Random(seed)

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def __iter__(self) -> Iterator:
        order = list(range(len(self.data)))
        if self.shuffle:
            self._rng.shuffle(order)
        groups = self._by_length(order) if self.by_length else _chunks(order, self.batch_size)
        for indices in groups:
            yield self.data.batch(indices)

    def _by_length(self, order: list[int]) -> list[list[int]]:
        lengths_of = getattr(self.data, "lengths", None)
        if lengths_of is None:
            raise ValueError(
                f"{type(self.data).__name__} has no lengths(), so it cannot batch by length"
            )
        lengths, pool = lengths_of(), self.POOL * self.batch_size
        groups = []
        for start in range(0, len(order), pool):
            groups += _chunks(
                sorted(order[start : start + pool], key=lengths.__getitem__), self.batch_size
            )
        if self.shuffle:
            self._rng.shuffle(groups)
        return groups


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[k : k + size] for k in range(0, len(items), size)]
