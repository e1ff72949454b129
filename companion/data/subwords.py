"""Subword vocabularies: a SentencePiece model behind the :class:`~companion.data.vocab.Vocab`
interface (notebook 5.3.7).

A word-level vocabulary has two faults a reader of a translator sees at once: a word outside it
becomes ``<unk>`` (in the input it is lost, in the output it is printed), and the text has to be
lower-cased and split by hand-written rules that cannot be undone ("it's ok ."). A subword model
learned from the training sentences (SentencePiece; Kudo and Richardson, 2018) fixes both:

* frequent words are one piece (``▁know``), rare ones are spelled from smaller pieces
  (``▁Zür ich``), and with ``byte_fallback`` a character it never saw is written as its UTF-8
  bytes (``<0xF0> <0x9F> …``), so no input ever becomes ``<unk>`` and any output can be written;
* the pieces keep case and spacing (``▁`` marks a space), so decoding gives the text back exactly:
  ``"I don't know what to do."`` → ``▁I ▁don ' t ▁know ▁what ▁to ▁do .`` → the same sentence.

English gets a unigram subword model; Chinese stays one piece per character
(``model_type="char"``), with bytes for characters outside the training text. The specials keep
the ids of :class:`Vocab`: ``<pad>=0 <bos>=1 <eos>=2 <unk>=3``.

:class:`SubwordVocab` also remembers the words of its training text, so that
:meth:`SubwordVocab.unseen_words` can name the words of a new sentence that the model never saw:
a word is *unseen* when it never occurred as a word (English: case-insensitively; Chinese: a
character) in the training sentences, or when it has to fall back to bytes. Its pieces may all be
known (``▁Zür`` + ``ich``), but the model never learned what they mean together.

A vocabulary travels with a saved model as plain types (:meth:`SubwordVocab.state`): the model
proto as ``bytes``, the language and the sorted training words, all readable by
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from companion.data.vocab import SPECIALS, Vocab
from companion.validation import check_choice, check_int, check_str, describe

LANGS = ("en", "zh")
MODEL_TYPES = ("unigram", "bpe", "char")
N_BYTES = 256  # byte-fallback pieces <0x00> … <0xFF>, ids 4 … 259

_IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# a word: an English word with an optional 's-style suffix, or a run of letters/digits; in Chinese
# text every ideograph is a word of its own
_WORD = {
    "en": re.compile(r"[^\W_]+(?:'[^\W\d_]+)?"),
    "zh": re.compile(rf"[{_IDEOGRAPH}]|[^\W_{_IDEOGRAPH}]+"),
}


def words_of(text: str, lang: str) -> list[str]:
    """The words of ``text``, punctuation left out: English words (``"Tom's"`` is one), or the
    Chinese characters and the Latin words between them. Case is kept."""
    check_str(text, "text")
    check_choice(lang, "lang", LANGS)
    return _WORD[lang].findall(text)


class SubwordVocab(Vocab):
    """A trained SentencePiece model as a vocabulary: ``itos`` are its pieces, ids as in
    :class:`Vocab`; :meth:`encode_text` and :meth:`decode_text` go from text to ids and back.

    Build one with :meth:`train`; rebuild a saved one with :meth:`from_state`.
    """

    def __init__(self, model_proto: bytes, *, lang: str, words: Iterable[str] = ()):
        import sentencepiece as spm

        if not isinstance(model_proto, (bytes, bytearray)) or not model_proto:
            raise TypeError(
                "model_proto must be the bytes of a SentencePiece model, got "
                f"{describe(model_proto)}"
            )
        check_choice(lang, "lang", LANGS)
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(bytes(model_proto))
        except Exception as exc:  # sentencepiece raises a bare RuntimeError or OSError
            raise ValueError(f"model_proto is not a SentencePiece model ({exc})") from exc
        pieces = [processor.IdToPiece(i) for i in range(processor.GetPieceSize())]
        if tuple(pieces[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(
                f"the SentencePiece model must start with the pieces {SPECIALS}, got "
                f"{tuple(pieces[: len(SPECIALS)])}; train it with SubwordVocab.train"
            )
        super().__init__(pieces[len(SPECIALS) :])
        self.model_proto = bytes(model_proto)
        self.lang = lang
        self.words = frozenset(words)
        self._processor = processor
        self._is_byte = [processor.IsByte(i) for i in range(len(pieces))]

    @classmethod
    def train(
        cls,
        sentences: Sequence[str],
        *,
        lang: str,
        vocab_size: int | None = None,
        model_type: str | None = None,
    ) -> SubwordVocab:
        """Learn a SentencePiece model from ``sentences`` (one thread, deterministic).

        English: a unigram model of ``vocab_size`` pieces (specials, the 256 byte pieces and
        every character of the text included, so at least that many), NFKC-normalised. Chinese
        (``model_type="char"``, the default for ``"zh"``): one piece per character seen in
        training, text left exactly as it is (no NFKC, which would turn "，" into ","). Both fall
        back to bytes for characters outside the model.
        """
        import sentencepiece as spm

        check_choice(lang, "lang", LANGS)
        model_type = model_type or ("char" if lang == "zh" else "unigram")
        check_choice(model_type, "model_type", MODEL_TYPES)
        if isinstance(sentences, str) or not isinstance(sentences, Sequence):
            raise TypeError(f"sentences must be a list of strings, got {describe(sentences)}")
        for i, s in enumerate(sentences):
            check_str(s, f"sentences[{i}]")
        text = [s for s in sentences if s.strip()]
        if not text:
            raise ValueError("cannot learn a vocabulary from no text: the sentences are empty")
        chars = Counter(ch for s in text for ch in s if not ch.isspace())
        n_chars = len(chars) + (1 if lang == "en" else 0)  # "▁" is a piece of English
        if model_type == "char":
            vocab_size = len(SPECIALS) + N_BYTES + n_chars
        elif vocab_size is None:
            raise ValueError(f"a {model_type} model needs a vocab_size")
        else:
            check_int(vocab_size, "vocab_size", min=len(SPECIALS) + N_BYTES + 1)
            # every character of the training text is a piece of its own as well
            vocab_size = max(vocab_size, len(SPECIALS) + N_BYTES + n_chars)
        options: dict[str, Any] = dict(
            model_type=model_type,
            vocab_size=vocab_size,
            character_coverage=1.0,
            byte_fallback=True,
            hard_vocab_limit=False,  # small corpora (the tests) may hold fewer pieces
            pad_id=0,
            bos_id=1,
            eos_id=2,
            unk_id=3,
            pad_piece=SPECIALS[0],
            bos_piece=SPECIALS[1],
            eos_piece=SPECIALS[2],
            unk_piece=SPECIALS[3],
            num_threads=1,
            minloglevel=2,
        )
        if lang == "zh":
            options.update(normalization_rule_name="identity", add_dummy_prefix=False)
        proto = io.BytesIO()
        spm.SentencePieceTrainer.Train(sentence_iterator=iter(text), model_writer=proto, **options)
        words = {w.lower() for s in text for w in words_of(s, lang)}
        return cls(proto.getvalue(), lang=lang, words=words)

    # ------------------------------------------------------------------ text ↔ ids
    def encode_text(self, text: str, lang: str | None = None) -> list[int]:
        """Piece ids of ``text`` (never ``<unk>``: unknown characters become their bytes)."""
        check_str(text, "text")
        self._check_lang(lang)
        return self._processor.EncodeAsIds(text)

    def pieces(self, text: str) -> list[str]:
        """The pieces of ``text``, as the model reads them (``▁`` marks a space before a word)."""
        return [self.itos[i] for i in self.encode_text(text)]

    def decode_text(self, ids: Iterable[int], lang: str | None = None) -> str:
        """The text of piece ids, detokenised: stops at ``<eos>``; ``<pad>``, ``<bos>`` and
        ``<unk>`` are left out, so no special token reaches the reader."""
        self._check_lang(lang)
        keep = []
        for i in self.decode(ids):  # validates the ids, stops at <eos>, drops <pad>/<bos>
            if i != SPECIALS[3]:
                keep.append(self.stoi[i])
        return self._processor.DecodeIds(keep)

    def _check_lang(self, lang: str | None) -> None:
        if lang is not None and lang != self.lang:
            raise ValueError(f"this vocabulary is for {self.lang!r} text, not {lang!r}")

    # ------------------------------------------------------------------ words it never saw
    def falls_back_to_bytes(self, text: str) -> bool:
        """Whether some character of ``text`` is outside the model (written as bytes)."""
        return any(self._is_byte[i] for i in self.encode_text(text))

    def unseen_words(self, text: str, lang: str | None = None) -> list[str]:
        """The words of ``text`` (:func:`words_of`) that never occurred as a word in the
        training sentences (English case-insensitively) or that fall back to bytes; each once,
        in order."""
        self._check_lang(lang)
        out: list[str] = []
        for word in words_of(text, self.lang):
            if word in out:
                continue
            if word.lower() not in self.words or self.falls_back_to_bytes(word):
                out.append(word)
        return out

    # ------------------------------------------------------------------ saving
    def state(self) -> dict[str, Any]:
        """Plain types for ``torch.save``: the model proto (bytes), the language, the words."""
        return {"model": self.model_proto, "lang": self.lang, "words": sorted(self.words)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> SubwordVocab:
        """The vocabulary saved by :meth:`state`."""
        if not isinstance(state, Mapping) or not {"model", "lang", "words"} <= set(state):
            raise ValueError(
                f"not a saved subword vocabulary (a dict with model, lang and words): "
                f"{describe(state)}"
            )
        words = state["words"]
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError("the saved words must be a list of strings")
        return cls(state["model"], lang=state["lang"], words=words)

    def __repr__(self) -> str:
        preview = " ".join(self.itos[len(SPECIALS) + N_BYTES : len(SPECIALS) + N_BYTES + 8])
        return f"SubwordVocab({self.lang}, {len(self)} pieces, e.g. {preview} …)"
