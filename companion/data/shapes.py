"""A generated image-captioning data set ("看图说话", book section 5.3.6).

Every image shows two shapes — circle, square or triangle, in one of four colours — side by side
or one above the other, on a dark background. Each image comes with captions in English and
Chinese that name both shapes and how they sit::

    a red circle left of a blue square        红色圆形在蓝色方形左边
    a green triangle above a yellow circle    绿色三角形在黄色圆形上面

The *caption* of an image names the left (or upper) shape first, so every image has exactly one
target sentence for training. The mirrored sentence ("a blue square right of a red circle") is
equally true; both are kept in ``references`` so BLEU can score a model that picks either.

Everything is drawn with NumPy from a seeded generator: no download, same data on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from companion.data.batching import BatchedData, TensorBatch, pad_targets
from companion.data.vocab import Vocab, tokenize
from companion.validation import check_float, check_int, check_seed

SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (1.0, 0.15, 0.15),
    "green": (0.15, 0.85, 0.15),
    "blue": (0.2, 0.35, 1.0),
    "yellow": (1.0, 0.9, 0.1),
}
RELATIONS = (
    "left of",
    "above",
)  # the caption's relation; the mirrored references use the other two

SHAPES_ZH = {"circle": "圆形", "square": "方形", "triangle": "三角形"}
COLOURS_ZH = {"red": "红色", "green": "绿色", "blue": "蓝色", "yellow": "黄色"}
_RELATION_ZH = {"left of": "左边", "right of": "右边", "above": "上面", "below": "下面"}
_MIRROR = {"left of": "right of", "above": "below"}
BACKGROUND = 0.05  # dark grey, so that a shape is any pixel noticeably brighter than this


@dataclass(frozen=True)
class Shape:
    """One drawn shape: kind, colour name, centre (x right, y down, in pixels) and half-size."""

    kind: str
    colour: str
    cx: float
    cy: float
    radius: float


@dataclass(frozen=True)
class Scene:
    """Two shapes; ``first`` is left of (or above) ``second`` as ``relation`` says."""

    first: Shape
    second: Shape
    relation: str


def scene_caption(scene: Scene, lang: str = "en", *, mirrored: bool = False) -> str:
    """The caption of ``scene`` in English (``"en"``) or Chinese (``"zh"``).

    ``mirrored=True`` names the second shape first ("… right of …", "… below …").
    """
    a, b, rel = scene.first, scene.second, scene.relation
    if mirrored:
        a, b, rel = b, a, _MIRROR[rel]
    if lang == "en":
        return f"a {a.colour} {a.kind} {rel} a {b.colour} {b.kind}"
    if lang == "zh":
        return (
            f"{COLOURS_ZH[a.colour]}{SHAPES_ZH[a.kind]}在"
            f"{COLOURS_ZH[b.colour]}{SHAPES_ZH[b.kind]}{_RELATION_ZH[rel]}"
        )
    raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")


def shape_mask(shape: Shape, image_size: int) -> np.ndarray:
    """Boolean ``[H, W]`` mask of the pixels whose centres lie inside ``shape``."""
    y, x = np.mgrid[0:image_size, 0:image_size] + 0.5
    dx, dy, r = x - shape.cx, y - shape.cy, shape.radius
    if shape.kind == "circle":
        return dx**2 + dy**2 <= r**2
    if shape.kind == "square":
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    if shape.kind == "triangle":  # apex up, base at the bottom: fills half of its bounding box
        return (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    raise ValueError(f"unknown shape {shape.kind!r}; choose one of {SHAPES}")


def grid_coverage(shape: Shape, image_size: int, rows: int, cols: int) -> np.ndarray:
    """Fraction of every cell of a ``rows × cols``
    grid laid over the image that ``shape`` covers.
    """
    if rows < 1 or cols < 1 or image_size % rows or image_size % cols:
        raise ValueError(f"a {rows}×{cols} grid must divide the {image_size}-pixel image evenly")
    mask = shape_mask(shape, image_size).astype(np.float32)
    return mask.reshape(rows, image_size // rows, cols, image_size // cols).mean(axis=(1, 3))


def render_scene(
    scene: Scene,
    image_size: int = 32,
    *,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Draw ``scene`` as a float32 RGB image ``[3, H, W]`` with values in [0, 1]."""
    image = np.full((3, image_size, image_size), BACKGROUND, dtype=np.float32)
    for shape in (scene.first, scene.second):
        image[:, shape_mask(shape, image_size)] = np.asarray(COLOURS[shape.colour], np.float32)[
            :, None
        ]
    if noise > 0:
        rng = rng if rng is not None else np.random.default_rng(0)
        image += rng.normal(0.0, noise, size=image.shape).astype(np.float32)
    return np.clip(image, 0.0, 1.0)


def random_scene(rng: random.Random, image_size: int = 32) -> Scene:
    """Two shapes in opposite halves of the canvas (left/right or top/bottom), never touching.

    The second shape's centre stays close to the first one's across the split line, so the two
    overlap in that direction: a "left of" pair is never also "above", and the relation in the
    caption is the only one the pixels support.
    """
    half = image_size / 2
    relation = rng.choice(RELATIONS)
    radii = [rng.uniform(0.3, 0.42) * half for _ in range(2)]  # 4.8…6.7 px at 32×32: fits in a half
    first_across = rng.uniform(radii[0] + 1, image_size - radii[0] - 1)
    shift = rng.uniform(-0.6, 0.6) * min(radii)
    shapes = []
    for slot, radius in enumerate(radii):
        along = rng.uniform(radius + 1, half - radius - 1) + slot * half  # across the split line
        across = (
            first_across
            if slot == 0
            else min(max(first_across + shift, radius + 1), image_size - radius - 1)
        )
        cx, cy = (along, across) if relation == "left of" else (across, along)
        shapes.append(Shape(rng.choice(SHAPES), rng.choice(list(COLOURS)), cx, cy, radius))
    return Scene(shapes[0], shapes[1], relation)


def canonical_scene(scene: Scene, image_size: int = 32) -> Scene:
    """``scene``'s shapes, colours and relation in one fixed layout: each shape centred in its half
    of the canvas, both with radius 0.36 × half. A caption then names exactly one picture (for a
    text-to-image decoder), and that picture is one :func:`random_scene` could also have drawn."""
    half = image_size / 2
    radius = 0.36 * half
    along = (half / 2, 1.5 * half)  # the centres of the two halves
    cells = [(a, half) if scene.relation == "left of" else (half, a) for a in along]
    first, second = (
        Shape(shape.kind, shape.colour, cx, cy, radius)
        for shape, (cx, cy) in zip((scene.first, scene.second), cells, strict=True)
    )
    return Scene(first, second, scene.relation)


@dataclass
class ShapeCaptions:
    """Images ``[N, 3, H, W]`` with their scenes, captions and all-true references per language."""

    images: torch.Tensor
    scenes: list[Scene]

    def __len__(self) -> int:
        return len(self.scenes)

    def captions(self, lang: str = "en") -> list[str]:
        return [scene_caption(s, lang) for s in self.scenes]

    def references(self, lang: str = "en") -> list[list[str]]:
        """Both true sentences per image (caption and its mirror), for multi-reference BLEU."""
        return [
            [scene_caption(s, lang), scene_caption(s, lang, mirrored=True)] for s in self.scenes
        ]

    def subset(self, indices: Sequence[int]) -> ShapeCaptions:
        idx = list(indices)
        return ShapeCaptions(self.images[idx], [self.scenes[i] for i in idx])

    def one_per_caption(self) -> ShapeCaptions:
        """The first image of every distinct caption, in order of first appearance."""
        first: dict[str, int] = {}
        for i, caption in enumerate(self.captions("en")):
            first.setdefault(caption, i)
        return self.subset(list(first.values()))

    def canonical(self) -> ShapeCaptions:
        """The same scenes redrawn without noise in the fixed layout of :func:`canonical_scene`."""
        size = self.images.shape[-1]
        scenes = [canonical_scene(s, size) for s in self.scenes]
        images = (
            np.stack([render_scene(s, size) for s in scenes])
            if scenes
            else np.zeros((0, 3, size, size))
        )
        return ShapeCaptions(torch.from_numpy(images.astype(np.float32)), scenes)


def generate_shapes(
    n: int, *, image_size: int = 32, seed: int = 0, noise: float = 0.0
) -> ShapeCaptions:
    """Generate ``n`` captioned images (deterministic given ``seed``).

    ``image_size`` ≥ 16 keeps every shape at least a few pixels wide; ``noise`` adds Gaussian
    pixel noise of that standard deviation (then clips to [0, 1]).
    """
    check_int(n, "n (the number of images)", min=1, max=1_000_000)
    check_int(image_size, "image_size (≥ 16 keeps the shapes recognisable)", min=16, max=1024)
    check_float(noise, "noise (larger values drown the shapes)", min=0.0, max=0.2)
    check_seed(seed)
    rng = random.Random(f"shapes-{seed}")
    pixel_rng = np.random.default_rng(seed)
    scenes = [random_scene(rng, image_size) for _ in range(n)]
    images = np.stack([render_scene(s, image_size, noise=noise, rng=pixel_rng) for s in scenes])
    return ShapeCaptions(torch.from_numpy(images), scenes)


# ------------------------------------------------------------------ batching for training


@dataclass
class CaptionBatch(TensorBatch):
    """Images and padded captions; ``tgt_in`` starts
    with ``<bos>``, ``tgt_out`` ends with ``<eos>``.
    """

    images: torch.Tensor  # [B, 3, H, W]
    tgt_in: torch.Tensor  # [B, T]
    tgt_out: torch.Tensor  # [B, T]
    tgt_mask: torch.Tensor  # [B, T] True on real tokens

    # The image is the "source sentence": with these two names the seq2seq loss and training
    # function serve captioning unchanged (an image has no length; its encoder ignores it).
    @property
    def src(self) -> torch.Tensor:
        return self.images

    @property
    def src_lengths(self) -> None:
        return None

    def __len__(self) -> int:
        return self.images.shape[0]


class CaptionData(BatchedData):
    """Captioned images with a caption vocabulary,
    batched like :class:`~companion.data.Seq2SeqData`.

    ``CaptionData.from_shapes(train, "zh")`` builds the vocabulary from the training captions;
    pass ``vocab=`` to reuse it for held-out images.
    """

    def __init__(self, shapes: ShapeCaptions, lang: str, vocab: Vocab):
        if len(shapes) == 0:
            raise ValueError("no images given")
        self.shapes, self.lang, self.tgt_vocab = shapes, lang, vocab
        self.tgt_ids = [vocab.encode(tokenize(c, lang)) for c in shapes.captions(lang)]

    @classmethod
    def from_shapes(
        cls, shapes: ShapeCaptions, lang: str = "en", *, vocab: Vocab | None = None
    ) -> CaptionData:
        vocab = vocab or Vocab.build(tokenize(c, lang) for c in shapes.captions(lang))
        return cls(shapes, lang, vocab)

    def __len__(self) -> int:
        return len(self.shapes)

    def batch(self, indices: Sequence[int]) -> CaptionBatch:
        tgt_in, tgt_out, tgt_mask = pad_targets([self.tgt_ids[i] for i in indices], self.tgt_vocab)
        return CaptionBatch(self.shapes.images[list(indices)], tgt_in, tgt_out, tgt_mask)
