"""A real English↔Chinese translator on the Tatoeba corpus (notebook 5.3.7, the chapter together).

The pieces of the chapter — an encoder (5.3.1), a decoder (5.3.2) with attention (5.3.3), teacher
forcing and beam search (5.3.4), BLEU (5.3.5), the Transformer (5.3.6) — trained on real sentence
pairs in either direction:

* :class:`TranslatorSettings` — everything that decides the trained weights (direction, model
  kind and size, epochs, subword vocabulary, training recipe, seed); :data:`PROFILES` holds the
  notebook's ``"cpu"`` and ``"full"`` sizes and a ``"smoke"`` size for the tests;
* :func:`train_translator` — subword vocabularies learned from the training pairs
  (:class:`~companion.data.subwords.SubwordVocab`: English cased SentencePiece pieces, Chinese
  characters, bytes for anything unseen, so never ``<unk>``), a model, training, and the
  validation BLEU after every epoch against the seconds of training so far;
* :func:`load_or_train` — reuses a translator saved in the cache folder when its settings and
  training data match, otherwise trains one and saves it (``torch.save`` of a state dict, the
  SentencePiece models as bytes and the settings; read back with ``weights_only=True``);
* :func:`translator_bleu` — sacrebleu's corpus BLEU, with its signature, over source sentences
  grouped with all their reference translations (``tokenize="zh"`` for Chinese output, ``"13a"``
  for English, cased).

The recipe (:data:`RECIPE`) lists the training changes measured one at a time on validation BLEU
(``benchmarks/tatoeba_translation.py --recipe``): batches of similar length, label smoothing, a
learning rate that warms up and decays, tied decoder embeddings, Chinese subwords, a wider model,
dropout; the ``cpu`` profile keeps those that helped.

A :class:`Translator` also offers ``encode_source``, ``tgt_vocab`` and ``tgt_lang``, so it can be
passed wherever decoding expects a data set's vocabularies.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from companion.data.batching import Seq2SeqData, encode_sentences
from companion.data.subwords import SubwordVocab
from companion.data.tatoeba import references_by_source
from companion.data.text_tasks import Pair
from companion.data.vocab import Vocab
from companion.validation import check_seed

if TYPE_CHECKING:
    from companion.models.seq2seq import EncoderDecoder

DIRECTIONS = {"en-zh": ("en", "zh"), "zh-en": ("zh", "en")}
KINDS = ("gru", "transformer")
SCHEDULES = ("constant", "warmup-decay")
FORMAT = 2  # bump when the saved layout changes (2: SentencePiece vocabularies, CPU seconds)


@dataclass(frozen=True)
class TranslatorSettings:
    """What decides a trained translator. ``hidden`` is the GRU's state size or the Transformer's
    ``d_model``; ``emb_dim`` only applies to the GRU (the Transformer embeds in ``d_model``).

    Vocabularies: English is cut into ``en_pieces`` SentencePiece pieces (a unigram model, the
    256 byte pieces and 4 specials included); Chinese is one piece per character
    (``zh_pieces=0``) or, for comparison, a unigram model of ``zh_pieces`` pieces.

    The recipe: ``label_smoothing`` ε of the loss; ``schedule`` ``"constant"`` (``lr`` throughout)
    or ``"warmup-decay"`` (linear warm-up to ``lr`` over the first ``warmup`` fraction of the
    steps, then linear decay to 0 at the last step); ``tie_embeddings`` shares the Transformer
    decoder's input embedding with its output layer (Press and Wolf, 2017); ``by_length`` batches
    sentences of similar length together.
    """

    direction: str = "en-zh"
    kind: str = "gru"
    hidden: int = 256
    emb_dim: int = 128
    layers: int = 2  # Transformer layers (encoder and decoder each)
    heads: int = 4
    dropout: float = 0.1
    epochs: int = 8
    batch_size: int = 64
    by_length: bool = True  # batches of similar-length sentences: less padding, faster epochs
    lr: float = 2e-3
    en_pieces: int = 4000
    zh_pieces: int = 0  # 0: one piece per character
    label_smoothing: float = 0.0
    schedule: str = "constant"
    warmup: float = 0.05
    tie_embeddings: bool = False
    max_len: int = 40  # longest output when decoding, in pieces
    seed: int = 0

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {self.direction!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {self.schedule!r}")
        for name in ("hidden", "emb_dim", "layers", "heads", "epochs", "batch_size", "max_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        minimum = 4 + 256 + 1  # specials, bytes, one more piece
        for name in ("en_pieces", "zh_pieces"):
            value = getattr(self, name)
            zero_ok = name == "zh_pieces" and value == 0
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not (zero_ok or value >= minimum)
            ):
                hint = "0 (characters) or " if name == "zh_pieces" else ""
                raise ValueError(f"{name} must be {hint}an integer ≥ {minimum}, got {value!r}")
        check_seed(self.seed)
        for name in ("by_length", "tie_embeddings"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.tie_embeddings and self.kind != "transformer":
            raise ValueError(
                "tie_embeddings needs kind='transformer': the attention GRU's output layer reads "
                "[s_t; c_t], wider than its embeddings"
            )
        for name in ("dropout", "label_smoothing", "warmup"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
        if not isinstance(self.lr, (int, float)) or not self.lr > 0 or not math.isfinite(self.lr):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")

    @property
    def languages(self) -> tuple[str, str]:
        return DIRECTIONS[self.direction]


#: The translators notebook 5.3.7 trains, as (direction, kind): the Transformer in both
#: directions, and the attention GRU as a smaller comparison in one.
MODELS: tuple[tuple[str, str], ...] = (
    ("en-zh", "transformer"),
    ("zh-en", "transformer"),
    ("en-zh", "gru"),
)

#: Sizes and recipe per profile and model kind, and per "direction kind" where one direction
#: differs. "cpu": the notebook's default, about five minutes of one CPU core for the whole
#: notebook; "full": larger models and more epochs, for a GPU (or a patient CPU); "smoke": tiny,
#: for the tests.
PROFILES: dict[str, dict[str, dict]] = {
    "smoke": {
        kind: dict(
            hidden=32, emb_dim=16, layers=1, epochs=1, en_pieces=300, max_len=12, batch_size=32
        )
        for kind in KINDS
    },
    "cpu": {
        "gru": dict(hidden=256, emb_dim=128, epochs=1),
        # the plain recipe with every kept change of RECIPE (a test keeps them in step)
        "transformer": dict(
            hidden=128,
            layers=2,
            heads=4,
            epochs=3,
            batch_size=64,
            lr=3e-3,
            dropout=0.0,
            label_smoothing=0.1,
            en_pieces=2000,
            max_len=32,  # outputs: Chinese targets have at most 26 pieces, English ones rarely 30
        ),
        # English output learns slower: its validation BLEU stands still in epoch 3, rises in 4
        "zh-en transformer": dict(epochs=4),
    },
    "full": {
        "gru": dict(hidden=512, emb_dim=256, epochs=20, lr=1e-3),
        "transformer": dict(hidden=512, layers=3, heads=8, dropout=0.2, epochs=20, lr=5e-4),
    },
}


@dataclass(frozen=True)
class RecipeStep:
    """One row of the recipe table: a change of the settings, measured on top of every kept row
    above it, and whether the rows below build on it (it raised validation BLEU, or saved time
    without losing any).

    ``valid_bleu`` (greedy, first 500 validation sources, after each of three epochs) and
    ``cpu_seconds`` (of one training epoch, one thread) are what
    ``benchmarks/tatoeba_translation.py --recipe --directions en-zh --epochs 3 --threads 1``
    measured for the row with seed 0, on a 2-core machine shared with other jobs.
    """

    name: str
    change: dict
    kept: bool
    valid_bleu: tuple[float, ...]
    cpu_seconds: float


#: The recipe table of notebook 5.3.7: the English→Chinese Transformer of the ``cpu`` profile,
#: each row one change on top of the kept rows above it. The first row is the plain recipe; the
#: ``cpu`` profile is the plain recipe with every kept change.
RECIPE: tuple[RecipeStep, ...] = (
    RecipeStep(
        "plain: constant rate, random batches of 128, dropout 0.1",
        dict(
            by_length=False,
            label_smoothing=0.0,
            schedule="constant",
            lr=3e-3,
            tie_embeddings=False,
            dropout=0.1,
            zh_pieces=0,
            en_pieces=4000,
            hidden=128,
            batch_size=128,
        ),
        True,
        (12.8, 18.9, 22.9),
        54,
    ),
    RecipeStep("batches of similar length", dict(by_length=True), True, (9.9, 20.4, 22.7), 36),
    RecipeStep("label smoothing 0.1", dict(label_smoothing=0.1), True, (9.5, 20.8, 22.9), 38),
    RecipeStep(
        "warm-up and linear decay",
        dict(schedule="warmup-decay"),
        False,
        (8.0, 17.6, 20.5),
        37,
    ),
    RecipeStep(
        "warm-up and linear decay, peak rate doubled",
        dict(schedule="warmup-decay", lr=6e-3),
        False,
        (6.9, 17.9, 21.7),
        38,
    ),
    RecipeStep("tied decoder embeddings", dict(tie_embeddings=True), False, (4.3, 14.4, 18.6), 37),
    RecipeStep(
        "Chinese subwords (4000 pieces)", dict(zh_pieces=4000), False, (2.2, 12.6, 19.3), 35
    ),
    RecipeStep("d_model 256 instead of 128", dict(hidden=256), False, (8.1, 15.7, 19.1), 67),
    RecipeStep("no dropout", dict(dropout=0.0), True, (12.1, 21.3, 22.9), 33),
    RecipeStep(
        "batches of 64 pairs instead of 128", dict(batch_size=64), True, (14.4, 22.3, 24.7), 33
    ),
    RecipeStep(
        "2000 English pieces instead of 4000", dict(en_pieces=2000), True, (15.1, 22.9, 24.7), 30
    ),
)


def recipe_table() -> str:
    """:data:`RECIPE` as printable lines: row, change, validation BLEU per epoch, CPU s/epoch."""
    lines = [f"{'':4s}{'change (on the kept rows above)':60s}{'valid BLEU':>20s}{'CPU s/ep':>10s}"]
    for number, step in enumerate(RECIPE, start=1):
        curve = " / ".join(f"{b:4.1f}" for b in step.valid_bleu)
        mark = "" if step.kept else "   (not kept)"
        lines.append(f"{number:2d}. {step.name + mark:60s}{curve:>20s}{step.cpu_seconds:10.0f}")
    return "\n".join(lines)


def recipe_settings(row: int) -> dict:
    """The setting changes of recipe row ``row`` (0-based): the kept rows above it, then its own."""
    if not isinstance(row, int) or not 0 <= row < len(RECIPE):
        raise ValueError(f"row must be an integer in 0…{len(RECIPE) - 1}, got {row!r}")
    changes: dict = {}
    for step in RECIPE[:row]:
        if step.kept:
            changes.update(step.change)
    changes.update(RECIPE[row].change)
    return changes


def settings_for(profile: str, direction: str, kind: str, **overrides) -> TranslatorSettings:
    """The settings of ``profile`` ("smoke", "cpu" or "full") for one direction and model kind."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {list(PROFILES)}, got {profile!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return TranslatorSettings(
        direction=direction,
        kind=kind,
        **{
            **PROFILES[profile][kind],
            **PROFILES[profile].get(f"{direction} {kind}", {}),
            **overrides,
        },
    )


def oriented(pairs: Sequence[Pair], direction: str) -> list[Pair]:
    """English→Chinese pairs as they are, or swapped for ``"zh-en"`` (source first)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    return list(pairs) if direction == "en-zh" else [Pair(p.tgt, p.src) for p in pairs]


@dataclass(frozen=True)
class EpochRecord:
    """Validation BLEU (greedy) after an epoch, against the training time so far (decoding not
    counted): wall-clock seconds and CPU seconds of this process (``time.process_time``), which
    hardly depend on what else the machine runs."""

    epoch: int
    seconds: float
    cpu_seconds: float
    bleu: float


@dataclass
class Translator:
    """A trained model with its subword vocabularies, settings and training record."""

    model: EncoderDecoder
    src_vocab: Vocab  # a SubwordVocab when trained here
    tgt_vocab: Vocab
    settings: TranslatorSettings
    train_seconds: float = 0.0
    train_cpu_seconds: float = 0.0
    curve: list[EpochRecord] = field(default_factory=list)
    data_key: str = ""

    @property
    def src_lang(self) -> str:
        return self.settings.languages[0]

    @property
    def tgt_lang(self) -> str:
        return self.settings.languages[1]

    def encode_source(self, sentences: str | Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode and pad source sentences with the source SentencePiece model."""
        return encode_sentences(sentences, self.src_vocab, self.src_lang)

    def unseen_words(self, text: str) -> list[str]:
        """Words of ``text`` the model never saw in training (see
        :meth:`~companion.data.subwords.SubwordVocab.unseen_words`)."""
        return self.src_vocab.unseen_words(text, self.src_lang)


def build_vocabularies(
    train_pairs: Sequence[Pair], settings: TranslatorSettings
) -> tuple[SubwordVocab, SubwordVocab]:
    """Source and target SentencePiece vocabularies learned from the training pairs only."""
    vocabs = []
    for lang, sentences in zip(
        settings.languages,
        ([p.src for p in train_pairs], [p.tgt for p in train_pairs]),
        strict=True,
    ):
        if lang == "en":
            vocabs.append(SubwordVocab.train(sentences, lang="en", vocab_size=settings.en_pieces))
        elif settings.zh_pieces:
            vocabs.append(
                SubwordVocab.train(
                    sentences, lang="zh", vocab_size=settings.zh_pieces, model_type="unigram"
                )
            )
        else:
            vocabs.append(SubwordVocab.train(sentences, lang="zh", model_type="char"))
    return vocabs[0], vocabs[1]


def build_model(settings: TranslatorSettings, src_vocab_size: int, tgt_vocab_size: int):
    """An attention GRU (5.3.3) or a Transformer (5.3.6) of the sizes in ``settings``.

    With ``tie_embeddings`` the Transformer decoder's output layer uses its input embedding as
    weight matrix: one parameter, so its state dict holds the same tensor under both names.
    """
    from companion.models import TransformerDecoder, make_seq2seq, make_transformer

    if settings.kind == "gru":
        return make_seq2seq(
            src_vocab_size,
            tgt_vocab_size,
            encoder="gru",
            decoder="attention",
            emb_dim=settings.emb_dim,
            hidden=settings.hidden,
        )
    model = make_transformer(
        src_vocab_size,
        tgt_vocab_size,
        d_model=settings.hidden,
        nhead=settings.heads,
        num_layers=settings.layers,
        dim_feedforward=2 * settings.hidden,
        dropout=settings.dropout,
    )
    if settings.tie_embeddings:
        decoder = model.decoder
        assert isinstance(decoder, TransformerDecoder)  # make_transformer builds one
        decoder.out.weight = decoder.embed.weight
    return model


def data_key(pairs: Sequence[Pair]) -> str:
    """A short fingerprint of training pairs: a saved
    translator is reused only for the same data.
    """
    digest = hashlib.sha256()
    for p in pairs:
        digest.update(f"{p.src}\t{p.tgt}\n".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class SacreBLEUResult:
    """sacrebleu's corpus BLEU with the signature that says how it was computed."""

    score: float
    signature: str  # e.g. nrefs:var|case:mixed|eff:no|tok:zh|smooth:exp|version:2.6.0
    text: str  # sacrebleu's line: BLEU, n-gram precisions, brevity penalty, lengths

    def __str__(self) -> str:
        return f"{self.score:.1f} ({self.signature})"


def translator_bleu(
    translator: Translator,
    pairs: Sequence[Pair],
    *,
    beam_width: int = 1,
    length_penalty: float = 0.0,
    hypotheses: Sequence[str] | None = None,
) -> SacreBLEUResult:
    """sacrebleu's corpus BLEU of ``translator`` on ``pairs`` (already in its direction).

    Pairs are grouped by source sentence; every translation of a source is one of its references.
    Chinese output is scored with ``tokenize="zh"`` (characters), English with ``"13a"``, cased:
    the translator writes cased, detokenised English. Pass ``hypotheses`` (one per distinct
    source, in order of first appearance) to score outputs decoded elsewhere.
    """
    from sacrebleu.metrics import BLEU

    if not pairs:
        raise ValueError("no pairs to score")
    sources, references = references_by_source(pairs)
    if hypotheses is None:
        hypotheses = translate_sentences(
            translator, sources, beam_width=beam_width, length_penalty=length_penalty
        )
    if len(hypotheses) != len(sources):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(sources)} distinct sources")
    streams = [
        [refs[k] if k < len(refs) else None for refs in references]
        for k in range(max(map(len, references)))
    ]
    metric = BLEU(tokenize="zh" if translator.tgt_lang == "zh" else "13a")
    # sacrebleu reads None as "no reference in this stream" but annotates Sequence[str]
    result = metric.corpus_score(list(hypotheses), streams)  # type: ignore[arg-type]  # see above
    return SacreBLEUResult(result.score, str(metric.get_signature()), str(result))


def translate_sentences(
    translator: Translator,
    sentences: Sequence[str],
    *,
    beam_width: int = 1,
    length_penalty: float = 0.0,
) -> list[str]:
    """Best translation of each sentence (greedy for ``beam_width=1``, else beam search; with
    ``length_penalty`` α > 0 beam search ranks hypotheses by log p(y | x) / L**α, so that short
    outputs are not favoured just for having fewer terms)."""
    from companion.inference import translate

    # a Translator offers what translate() reads from a data set: encode_source, tgt_vocab, tgt_lang
    return translate(
        translator.model,
        translator,
        list(sentences),
        beam_width=beam_width,
        length_penalty=length_penalty,
        max_len=translator.settings.max_len,
        batch_size=256,
    )


def lr_factor(step: int, total_steps: int, settings: TranslatorSettings) -> float:
    """Learning-rate multiplier at optimisation step ``step`` (0-based) of ``total_steps``:
    1 for ``"constant"``; for ``"warmup-decay"`` a linear rise over the first ``warmup``
    fraction of the steps, then a linear fall that reaches 0 after the last step."""
    if settings.schedule == "constant":
        return 1.0
    warm = max(1, round(settings.warmup * total_steps))
    if step < warm:
        return (step + 1) / warm
    return max(0.0, (total_steps - step) / max(1, total_steps - warm))


def train_translator(
    train_pairs: Sequence[Pair],
    settings: TranslatorSettings,
    *,
    valid_pairs: Sequence[Pair] = (),
    n_valid: int = 500,
    progress: bool = True,
    device: torch.device | str | None = None,
    on_epoch_end=None,
) -> Translator:
    """Learn vocabularies and train a model on ``train_pairs`` (in the settings' direction).

    After every epoch the greedy BLEU on the first ``n_valid`` validation sources is recorded
    with the training seconds so far (:attr:`Translator.curve`); decoding time is not counted.
    ``on_epoch_end(record)`` (optional) is called with each :class:`EpochRecord`.
    """
    from companion.train import train_seq2seq

    if not train_pairs:
        raise ValueError("no training pairs")
    src_lang, tgt_lang = settings.languages
    torch.manual_seed(settings.seed)
    src_vocab, tgt_vocab = build_vocabularies(train_pairs, settings)
    data = Seq2SeqData(train_pairs, src_lang, tgt_lang, src_vocab, tgt_vocab)
    model = build_model(settings, len(src_vocab), len(tgt_vocab))
    if device is not None:
        model.to(device)
    translator = Translator(model, src_vocab, tgt_vocab, settings, data_key=data_key(train_pairs))
    valid = _first_sources(valid_pairs, n_valid)
    batches = data.batches(
        settings.batch_size, shuffle=True, by_length=settings.by_length, seed=settings.seed
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    total_steps = settings.epochs * len(batches)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, total_steps, settings)
    )
    for epoch in range(1, settings.epochs + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        train_seq2seq(
            model,
            batches,
            epochs=1,
            optimizer=optimizer,
            scheduler=scheduler,
            label_smoothing=settings.label_smoothing,
            progress=progress,
        )
        translator.train_seconds += time.perf_counter() - start
        translator.train_cpu_seconds += time.process_time() - cpu_start
        if valid:
            record = EpochRecord(
                epoch,
                translator.train_seconds,
                translator.train_cpu_seconds,
                translator_bleu(translator, valid).score,
            )
            translator.curve.append(record)
            if on_epoch_end is not None:
                on_epoch_end(record)
    model.eval()
    return translator


def _first_sources(pairs: Sequence[Pair], n: int) -> list[Pair]:
    """The pairs of the first ``n`` distinct source sentences."""
    keep: set[str] = set()
    out = []
    for p in pairs:
        if p.src not in keep and len(keep) >= n:
            continue
        keep.add(p.src)
        out.append(p)
    return out


# ----------------------------------------------------------------------------- saving and loading
def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/companion`` or ``~/.cache/companion``: the user's own, writable cache.

    Not ``$COMPANION_DATA``, which may be a shared, read-only copy of the data sets.
    """
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "companion"


def translator_path(cache_dir: str | Path, settings: TranslatorSettings) -> Path:
    """``<cache_dir>/translators/<direction>-<kind>-<hash of the settings>.pt``."""
    text = repr(sorted(dataclasses.asdict(settings).items()))
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return Path(cache_dir) / "translators" / f"{settings.direction}-{settings.kind}-{digest}.pt"


def save_translator(translator: Translator, path: str | Path) -> Path:
    """Save the state dict, vocabularies (SentencePiece models as bytes), settings and training
    record: plain types only, so :func:`load_translator` reads them with ``weights_only=True``."""
    path = Path(path)
    vocabs = []
    for vocab in (translator.src_vocab, translator.tgt_vocab):
        if not isinstance(vocab, SubwordVocab):
            raise TypeError(
                f"only translators with subword vocabularies are saved, got {type(vocab).__name__}"
            )
        vocabs.append(vocab.state())
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "settings": dataclasses.asdict(translator.settings),
        "src_vocab": vocabs[0],
        "tgt_vocab": vocabs[1],
        "state_dict": {k: v.detach().cpu() for k, v in translator.model.state_dict().items()},
        "train_seconds": translator.train_seconds,
        "train_cpu_seconds": translator.train_cpu_seconds,
        "curve": [dataclasses.astuple(record) for record in translator.curve],
        "data_key": translator.data_key,
    }
    tmp = path.with_suffix(".part")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_translator(path: str | Path, *, device: torch.device | str | None = None) -> Translator:
    """Read a translator written by :func:`save_translator`
    (``weights_only=True``: no code runs).
    """
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ValueError(
            f"{path} is not a readable translator file ({exc.__class__.__name__}: "
            f"{exc}); delete it to retrain"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} was saved in another format; delete it to retrain")
    settings = TranslatorSettings(**payload["settings"])
    src_vocab = SubwordVocab.from_state(payload["src_vocab"])
    tgt_vocab = SubwordVocab.from_state(payload["tgt_vocab"])
    model = build_model(settings, len(src_vocab), len(tgt_vocab))
    model.load_state_dict(payload["state_dict"])
    if device is not None:
        model.to(device)
    model.eval()
    return Translator(
        model,
        src_vocab,
        tgt_vocab,
        settings,
        payload["train_seconds"],
        payload["train_cpu_seconds"],
        [EpochRecord(*record) for record in payload["curve"]],
        payload["data_key"],
    )


def load_or_train(
    train_pairs: Sequence[Pair],
    settings: TranslatorSettings,
    *,
    cache_dir: str | Path,
    retrain: bool = False,
    valid_pairs: Sequence[Pair] = (),
    progress: bool = True,
    device: torch.device | str | None = None,
) -> tuple[Translator, str]:
    """A saved translator with these settings and training data, or a newly trained (and saved) one.

    Returns ``(translator, message)``; the one-line message says which happened and why.
    """
    path = translator_path(cache_dir, settings)
    reason = "retraining as asked" if retrain else "no saved model"
    if path.is_file() and not retrain:
        try:
            saved = load_translator(path, device=device)
        except (ValueError, RuntimeError, KeyError, TypeError) as exc:
            reason = f"the saved model could not be used ({exc})"
        else:
            if saved.data_key == data_key(train_pairs) and saved.settings == settings:
                return saved, f"loaded {path.name} (trained {saved.train_seconds:.0f} s earlier)"
            reason = "the saved model was trained on other data"
    translator = train_translator(
        train_pairs, settings, valid_pairs=valid_pairs, progress=progress, device=device
    )
    try:
        save_translator(translator, path)
        outcome = f"saved {path}"
    except OSError as exc:
        outcome = f"not saved ({exc.__class__.__name__}: {exc})"
    return translator, (
        f"trained in {translator.train_seconds:.0f} s ({translator.train_cpu_seconds:.0f} CPU s; "
        f"{reason}); {outcome}"
    )
