"""A real English↔Chinese translator on the Tatoeba corpus (notebook 5.3.7, the chapter together).

The pieces of the chapter — an encoder (5.3.1), a decoder (5.3.2) with attention (5.3.3), teacher
forcing and beam search (5.3.4), BLEU (5.3.5), the Transformer (5.3.6) — trained on real sentence
pairs in either direction:

* :class:`TranslatorSettings` — everything that decides the trained weights (direction, model
  kind and size, epochs, vocabulary threshold, seed); :data:`PROFILES` holds the notebook's
  ``"cpu"`` and ``"full"`` sizes and a ``"smoke"`` size for the tests;
* :func:`train_translator` — vocabularies from the training pairs, a model, training, and the
  validation BLEU after every epoch against the seconds of training so far;
* :func:`load_or_train` — reuses a translator saved in the cache folder when its settings and
  training data match, otherwise trains one and saves it (``torch.save`` of a state dict, the
  vocabularies and the settings; read back with ``weights_only=True``);
* :func:`translator_bleu` — corpus BLEU over source sentences grouped with all their reference
  translations (``tokenize="zh"`` for Chinese output, ``"13a"`` for English).

A :class:`Translator` also offers ``encode_source``, ``tgt_vocab`` and ``tgt_lang``, so it can be
passed wherever decoding expects a data set's vocabularies.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from companion.data.batching import Seq2SeqData, encode_sentences
from companion.data.tatoeba import references_by_source
from companion.data.text_tasks import Pair
from companion.data.vocab import Vocab, tokenize
from companion.metrics.bleu import BLEUResult, corpus_bleu
from companion.validation import check_seed

if TYPE_CHECKING:
    from companion.models.seq2seq import EncoderDecoder

DIRECTIONS = {"en-zh": ("en", "zh"), "zh-en": ("zh", "en")}
KINDS = ("gru", "transformer")
FORMAT = 1  # bump when the saved layout changes


@dataclass(frozen=True)
class TranslatorSettings:
    """What decides a trained translator. ``hidden`` is the GRU's state size or the Transformer's
    ``d_model``; ``emb_dim`` only applies to the GRU (the Transformer embeds in ``d_model``)."""

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
    min_freq: int = 2  # tokens seen fewer times in training become <unk>
    max_len: int = 30  # longest output when decoding
    seed: int = 0

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {self.direction!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        for name in (
            "hidden",
            "emb_dim",
            "layers",
            "heads",
            "epochs",
            "batch_size",
            "min_freq",
            "max_len",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        check_seed(self.seed)
        if not isinstance(self.by_length, bool):
            raise ValueError(f"by_length must be True or False, got {self.by_length!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")

    @property
    def languages(self) -> tuple[str, str]:
        return DIRECTIONS[self.direction]


#: Sizes per profile and model kind. "cpu": the notebook's default, a few minutes on a laptop
#: CPU for all four models; "full": larger models and more epochs, for a GPU (or a patient CPU);
#: "smoke": tiny, for the tests.
PROFILES: dict[str, dict[str, dict]] = {
    "smoke": {
        kind: dict(hidden=32, emb_dim=16, layers=1, epochs=1, min_freq=1, max_len=12)
        for kind in KINDS
    },
    "cpu": {
        "gru": dict(hidden=256, emb_dim=128, epochs=2),
        "transformer": dict(hidden=128, layers=2, heads=4, epochs=2, batch_size=128, lr=3e-3),
    },
    "full": {
        "gru": dict(hidden=512, emb_dim=256, epochs=20, lr=1e-3),
        "transformer": dict(hidden=512, layers=3, heads=8, dropout=0.2, epochs=20, lr=5e-4),
    },
}


def settings_for(profile: str, direction: str, kind: str, **overrides) -> TranslatorSettings:
    """The settings of ``profile`` ("smoke", "cpu" or "full") for one direction and model kind."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {list(PROFILES)}, got {profile!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return TranslatorSettings(
        direction=direction, kind=kind, **{**PROFILES[profile][kind], **overrides}
    )


def oriented(pairs: Sequence[Pair], direction: str) -> list[Pair]:
    """English→Chinese pairs as they are, or swapped for ``"zh-en"`` (source first)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    return list(pairs) if direction == "en-zh" else [Pair(p.tgt, p.src) for p in pairs]


@dataclass
class Translator:
    """A trained model with its vocabularies, settings and training record."""

    model: EncoderDecoder
    src_vocab: Vocab
    tgt_vocab: Vocab
    settings: TranslatorSettings
    train_seconds: float = 0.0
    curve: list[tuple[float, float]] = field(default_factory=list)  # (seconds, valid BLEU)
    data_key: str = ""

    @property
    def src_lang(self) -> str:
        return self.settings.languages[0]

    @property
    def tgt_lang(self) -> str:
        return self.settings.languages[1]

    def encode_source(self, sentences: str | Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokenise, encode and pad source sentences (unknown tokens become ``<unk>``)."""
        return encode_sentences(sentences, self.src_vocab, self.src_lang)


def build_model(settings: TranslatorSettings, src_vocab_size: int, tgt_vocab_size: int):
    """An attention GRU (5.3.3) or a Transformer (5.3.6) of the sizes in ``settings``."""
    from companion.models import make_seq2seq, make_transformer

    if settings.kind == "gru":
        return make_seq2seq(
            src_vocab_size,
            tgt_vocab_size,
            encoder="gru",
            decoder="attention",
            emb_dim=settings.emb_dim,
            hidden=settings.hidden,
        )
    return make_transformer(
        src_vocab_size,
        tgt_vocab_size,
        d_model=settings.hidden,
        nhead=settings.heads,
        num_layers=settings.layers,
        dim_feedforward=2 * settings.hidden,
        dropout=settings.dropout,
    )


def data_key(pairs: Sequence[Pair]) -> str:
    """A short fingerprint of training pairs: a saved
    translator is reused only for the same data.
    """
    digest = hashlib.sha256()
    for p in pairs:
        digest.update(f"{p.src}\t{p.tgt}\n".encode())
    return digest.hexdigest()[:16]


def translator_bleu(
    translator: Translator,
    pairs: Sequence[Pair],
    *,
    beam_width: int = 1,
    hypotheses: Sequence[str] | None = None,
) -> BLEUResult:
    """Corpus BLEU (5-25), (5-26) of ``translator`` on ``pairs`` (already in its direction).

    Pairs are grouped by source sentence; every translation of a source is one of its references.
    Chinese output is scored with ``tokenize="zh"`` (characters), English with ``"13a"``,
    lower-cased (our English vocabulary is lower-case), by :func:`companion.metrics.corpus_bleu`
    (equal to sacrebleu's). Pass ``hypotheses`` (one per distinct source, in order of first
    appearance) to score outputs decoded elsewhere.
    """
    if not pairs:
        raise ValueError("no pairs to score")
    sources, references = references_by_source(pairs)
    if hypotheses is None:
        hypotheses = translate_sentences(translator, sources, beam_width=beam_width)
    if len(hypotheses) != len(sources):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(sources)} distinct sources")
    zh = translator.tgt_lang == "zh"
    return corpus_bleu(
        list(hypotheses), references, tokenize="zh" if zh else "13a", lowercase=not zh
    )


def translate_sentences(
    translator: Translator, sentences: Sequence[str], *, beam_width: int = 1
) -> list[str]:
    """Best translation of each sentence (greedy for ``beam_width=1``, else beam search)."""
    from companion.inference import translate

    # a Translator offers what translate() reads from a data set: encode_source, tgt_vocab, tgt_lang
    return translate(
        translator.model,
        translator,
        list(sentences),
        beam_width=beam_width,
        max_len=translator.settings.max_len,
        batch_size=256,
    )


def train_translator(
    train_pairs: Sequence[Pair],
    settings: TranslatorSettings,
    *,
    valid_pairs: Sequence[Pair] = (),
    n_valid: int = 500,
    progress: bool = True,
    device: torch.device | str | None = None,
) -> Translator:
    """Build vocabularies and a model from ``train_pairs``
    (in the settings' direction) and train it.

    After every epoch the greedy BLEU on the first ``n_valid`` validation sources is recorded
    against the training seconds so far (:attr:`Translator.curve`); decoding time is not counted.
    """
    from companion.train import train_seq2seq

    if not train_pairs:
        raise ValueError("no training pairs")
    src_lang, tgt_lang = settings.languages
    torch.manual_seed(settings.seed)
    src_vocab = Vocab.build(
        (tokenize(p.src, src_lang) for p in train_pairs), min_freq=settings.min_freq
    )
    tgt_vocab = Vocab.build(
        (tokenize(p.tgt, tgt_lang) for p in train_pairs), min_freq=settings.min_freq
    )
    data = Seq2SeqData.from_pairs(
        train_pairs, src_lang, tgt_lang, src_vocab=src_vocab, tgt_vocab=tgt_vocab
    )
    model = build_model(settings, len(src_vocab), len(tgt_vocab))
    if device is not None:
        model.to(device)
    translator = Translator(model, src_vocab, tgt_vocab, settings, data_key=data_key(train_pairs))
    valid = _first_sources(valid_pairs, n_valid)
    batches = data.batches(
        settings.batch_size, shuffle=True, by_length=settings.by_length, seed=settings.seed
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    for _ in range(settings.epochs):
        start = time.perf_counter()
        train_seq2seq(model, batches, epochs=1, optimizer=optimizer, progress=progress)
        translator.train_seconds += time.perf_counter() - start
        if valid:
            bleu = translator_bleu(translator, valid).score
            translator.curve.append((translator.train_seconds, bleu))
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
    """Save the state dict, vocabularies, settings and training record (plain types only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "settings": dataclasses.asdict(translator.settings),
        "src_vocab": translator.src_vocab.itos,
        "tgt_vocab": translator.tgt_vocab.itos,
        "state_dict": {k: v.detach().cpu() for k, v in translator.model.state_dict().items()},
        "train_seconds": translator.train_seconds,
        "curve": [list(point) for point in translator.curve],
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
    src_vocab, tgt_vocab = Vocab(payload["src_vocab"][4:]), Vocab(payload["tgt_vocab"][4:])
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
        [tuple(point) for point in payload["curve"]],
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
    return translator, f"trained in {translator.train_seconds:.0f} s ({reason}); {outcome}"
