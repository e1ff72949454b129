"""The Tatoeba English–Chinese sentence pairs (a real corpus for section 5.3.3).

The file ``cmn.txt`` (from https://www.manythings.org/anki/, CC-BY 2.0 FR, sentences from the
Tatoeba project) has one pair a line: ``English<TAB>Chinese``, and newer downloads add a third
column with the attribution. Both formats are read; lines that are neither are skipped and
counted, never fatal.

Where the file lives, first match wins:

1. the ``root`` argument: ``<root>/tatoeba/cmn.txt``;
2. the environment variable ``COMPANION_DATA``: ``$COMPANION_DATA/tatoeba/cmn.txt``;
3. the user cache: ``~/.cache/companion/tatoeba/cmn.txt`` (``$XDG_CACHE_HOME`` is respected),
   where :func:`download_tatoeba` puts it.

:func:`load_tatoeba` reads, cleans, filters by length and splits the corpus (seeded, and by
connected components: pairs that share an English or a Chinese sentence stay in one split, so no
sentence of either language is in two splits; :func:`split_by_component`). The length caps count
English words and Chinese characters (:mod:`companion.data.vocab`). The corpus mixes Simplified
and Traditional script; ``simplified=True`` converts the Chinese side to Simplified
(:mod:`companion.data.chinese`).
"""

from __future__ import annotations

import io
import itertools
import random
import re
import urllib.request
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from companion.data.cache import DataUnavailableError, data_root, write_file
from companion.data.text_tasks import Pair, check_pairs
from companion.data.vocab import tokenize_en, tokenize_zh
from companion.validation import check_bool, check_float, check_int, check_seed

TATOEBA_URL = "https://www.manythings.org/anki/cmn-eng.zip"
RELATIVE_PATH = Path("tatoeba") / "cmn.txt"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "cmn_sample.txt"
_HAS_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HAS_LATIN = re.compile(r"[A-Za-z0-9]")


class TatoebaNotFoundError(DataUnavailableError, FileNotFoundError):
    """``cmn.txt`` is neither on disk nor downloadable; the message says how to get it."""


def tatoeba_path(root: str | Path | None = None) -> Path:
    """Where ``cmn.txt`` is looked for (it need not exist): ``<data root>/tatoeba/cmn.txt``."""
    return data_root(root) / RELATIVE_PATH


@dataclass
class TatoebaCorpus:
    """Parsed lines: the good pairs, and how many
    lines were skipped as bad (with a few examples).
    """

    pairs: list[Pair]
    n_lines: int = 0
    n_bad: int = 0
    bad_examples: list[str] = field(default_factory=list)  # "line 7: no tab-separated Chinese side"

    def summary(self) -> str:
        return (
            f"{self.n_lines} lines: {len(self.pairs)} sentence pairs, {self.n_bad} bad lines "
            f"skipped"
        )


def _parse_line(line: str) -> Pair | str:
    """A :class:`Pair`, or the reason why the line is not one."""
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) not in (2, 3):
        return f"{len(fields)} tab-separated fields (expected English, Chinese[, attribution])"
    en, zh = fields[0].strip(), fields[1].strip()
    if not en or not zh:
        return "an empty English or Chinese side"
    if not _HAS_LATIN.search(en):
        return "no Latin letter or digit on the English side"
    if not _HAS_CJK.search(zh):
        return "no Chinese character on the Chinese side"
    return Pair(en, zh)


def parse_tatoeba(lines: Iterable[str | bytes], *, max_examples: int = 5) -> TatoebaCorpus:
    """Parse ``English<TAB>Chinese[<TAB>attribution]`` lines; blank lines are ignored."""
    corpus = TatoebaCorpus(pairs=[])
    for number, line in enumerate(lines, start=1):
        corpus.n_lines += 1
        text: str | None = line if not isinstance(line, bytes) else None
        if isinstance(line, bytes):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                pass  # counted as a bad line below
        if text is not None and not text.strip():
            corpus.n_lines -= 1
            continue
        result = "not valid UTF-8" if text is None else _parse_line(text.lstrip("\ufeff"))
        if isinstance(result, Pair):
            corpus.pairs.append(result)
        else:
            corpus.n_bad += 1
            if len(corpus.bad_examples) < max_examples:
                corpus.bad_examples.append(f"line {number}: {result}")
    return corpus


def read_tatoeba(path: str | Path) -> TatoebaCorpus:
    """Read a ``cmn.txt``-style file (UTF-8; undecodable lines are counted as bad)."""
    path = Path(path)
    if not path.is_file():
        raise TatoebaNotFoundError(_missing_message(path))
    with path.open("rb") as f:
        corpus = parse_tatoeba(f)
    if not corpus.pairs:
        raise ValueError(
            f"{path} contains no English<TAB>Chinese lines ({corpus.summary()}; "
            f"e.g. {corpus.bad_examples[:2]}); is it the Tatoeba cmn.txt file?"
        )
    return corpus


def _missing_message(path: Path) -> str:
    return (
        f"The Tatoeba corpus is not at {path}. Download {TATOEBA_URL}, unzip it and put "
        f"cmn.txt there (or pass root=… / set COMPANION_DATA to a folder holding "
        f"{RELATIVE_PATH}); load_tatoeba(download=True) does this when the network is there"
    )


def download_tatoeba(
    root: str | Path | None = None, *, url: str = TATOEBA_URL, timeout: float = 20.0
) -> Path:
    """Download the zip, extract ``cmn.txt`` to :func:`tatoeba_path` and return that path."""
    target = tatoeba_path(root)
    request = urllib.request.Request(url, headers={"User-Agent": "companion (educational)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            text = archive.read("cmn.txt")
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise TatoebaNotFoundError(
            f"could not download the corpus ({exc.__class__.__name__}: "
            f"{exc}). {_missing_message(target)}"
        ) from exc
    return write_file(target, text)


@dataclass
class TatoebaSplits:
    """Train/valid/test pairs plus the bookkeeping of how they were obtained."""

    train: list[Pair]
    valid: list[Pair]
    test: list[Pair]
    corpus: TatoebaCorpus
    n_duplicates: int
    n_too_long: int
    path: Path | None = None

    def summary(self) -> str:
        return (
            f"Tatoeba: {self.corpus.summary()}; {self.n_duplicates} duplicates and "
            f"{self.n_too_long} too-long pairs dropped; train/valid/test = "
            f"{len(self.train)}/{len(self.valid)}/{len(self.test)} pairs"
        )


def filter_pairs(
    pairs: Sequence[Pair], *, max_src_len: int, max_tgt_len: int
) -> tuple[list[Pair], int, int]:
    """Drop exact duplicates and pairs longer than the limits (English words, Chinese characters).

    Returns ``(kept, n_duplicates, n_too_long)``.
    """
    check_pairs(pairs, allow_empty=True)
    check_int(max_src_len, "max_src_len", min=1)
    check_int(max_tgt_len, "max_tgt_len", min=1)
    seen: set[Pair] = set()
    kept, n_dup, n_long = [], 0, 0
    for p in pairs:
        if p in seen:
            n_dup += 1
            continue
        seen.add(p)
        if len(tokenize_en(p.src)) > max_src_len or len(tokenize_zh(p.tgt)) > max_tgt_len:
            n_long += 1
            continue
        kept.append(p)
    return kept, n_dup, n_long


def sentence_groups(pairs: Sequence[Pair]) -> list[list[int]]:
    """Indices of ``pairs`` grouped into connected components: two pairs are in one group when
    they share their English or their Chinese sentence, directly or through other pairs.

    Union–find over the pairs, joining each pair with the first pair that had the same English
    sentence and the first that had the same Chinese one. Groups come in order of their first
    pair, each listing its pairs in order.
    """
    check_pairs(pairs, allow_empty=True)
    parent = list(range(len(pairs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps the trees flat
            i = parent[i]
        return i

    first_en: dict[str, int] = {}
    first_zh: dict[str, int] = {}
    for i, p in enumerate(pairs):
        for first, sentence in ((first_en, p.src), (first_zh, p.tgt)):
            a, b = root(i), root(first.setdefault(sentence, i))
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(pairs)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def split_by_component(
    pairs: Sequence[Pair], fractions: Sequence[float] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> list[list[Pair]]:
    """Seeded split in which no English and no Chinese sentence appears in two parts.

    Pairs that share a sentence on either side (:func:`sentence_groups`) move together: the
    groups are shuffled and dealt into the parts until each holds its fraction of the pairs. So
    every translation of a sentence lands in the part of the sentence, in both directions, and
    the test split holds no sentence the model was trained on, on either side.
    """
    check_pairs(pairs)
    if isinstance(fractions, str) or not isinstance(fractions, Sequence) or not fractions:
        raise TypeError(
            f"fractions must be a list of numbers such as (0.8, 0.1, 0.1), got {fractions!r}"
        )
    for i, f in enumerate(fractions):
        check_float(f, f"fractions[{i}]", min=0.0, max=1.0)
    if abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must sum to 1, got {tuple(fractions)}")
    check_seed(seed)
    groups = sentence_groups(pairs)
    random.Random(seed).shuffle(groups)
    parts: list[list[Pair]] = [[] for _ in fractions]
    bounds = list(itertools.accumulate(f * len(pairs) for f in fractions))
    part, dealt = 0, 0
    for group in groups:
        while part < len(parts) - 1 and dealt >= bounds[part] - 1e-9:
            part += 1
        parts[part].extend(pairs[i] for i in group)
        dealt += len(group)
    return parts


def load_tatoeba(
    root: str | Path | None = None,
    *,
    path: str | Path | None = None,
    download: bool = True,
    max_src_len: int = 10,
    max_tgt_len: int = 12,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    simplified: bool = False,
) -> TatoebaSplits:
    """Read (downloading once if allowed), clean, filter and split the Tatoeba corpus.

    ``path`` names a ``cmn.txt``-style file directly; otherwise the file is looked for under
    ``root`` / ``$COMPANION_DATA`` / the user cache (see the module docstring) and downloaded to
    the cache when ``download`` and it is missing. Raises :class:`TatoebaNotFoundError` with
    instructions when there is no file and no download. ``simplified`` converts the Chinese
    side to Simplified characters before duplicates are dropped.
    """
    check_bool(download, "download")
    check_bool(simplified, "simplified")
    check_seed(seed)
    check_int(max_src_len, "max_src_len", min=1)
    check_int(max_tgt_len, "max_tgt_len", min=1)
    file = Path(path) if path is not None else tatoeba_path(root)
    if not file.is_file():
        if path is not None or not download:
            raise TatoebaNotFoundError(_missing_message(file))
        file = download_tatoeba(root)
    corpus = read_tatoeba(file)
    pairs = corpus.pairs
    if simplified:
        from companion.data.chinese import to_simplified

        pairs = [Pair(p.src, to_simplified(p.tgt)) for p in pairs]
    kept, n_dup, n_long = filter_pairs(pairs, max_src_len=max_src_len, max_tgt_len=max_tgt_len)
    if not kept:
        raise ValueError(
            f"no pair of {file} is within max_src_len={max_src_len} words and "
            f"max_tgt_len={max_tgt_len} characters; raise the limits"
        )
    train, valid, test = split_by_component(kept, fractions, seed=seed)
    return TatoebaSplits(train, valid, test, corpus, n_dup, n_long, file)


def references_by_source(pairs: Sequence[Pair]) -> tuple[list[str], list[list[str]]]:
    """Group pairs by source sentence: ``(sources, references)``, the distinct sources in order
    of first appearance, each with every known translation."""
    check_pairs(pairs, allow_empty=True)
    grouped: dict[str, list[str]] = {}
    for p in pairs:
        grouped.setdefault(p.src, []).append(p.tgt)
    return list(grouped), list(grouped.values())
