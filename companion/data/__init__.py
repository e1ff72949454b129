"""Data for the companion: generated text tasks and images, MNIST and Tatoeba with a cache folder,
vocabularies and batching."""
from companion.data.batching import (BatchedData, BatchIterable, Seq2SeqBatch, Seq2SeqData,
                                     lengths_to_mask, pad_sequences, pad_targets)
from companion.data.cache import DataUnavailableError, data_root
from companion.data.images import (ImageSplit, disc_mask, download_mnist, load_digits_split,
                                   load_image_split, load_mnist, load_mnist_split, moon_phase,
                                   moon_phases, nearest_phase, read_idx, shadow_fraction)
from companion.data.numbers import chinese_number, english_number
from companion.data.shapes import CaptionBatch, CaptionData, ShapeCaptions, generate_shapes
from companion.data.tatoeba import (TatoebaNotFoundError, load_tatoeba, read_tatoeba,
                                    references_by_source, tatoeba_path)
from companion.data.text_tasks import TASKS, Pair, generate_pairs, get_task, split_pairs
from companion.data.vocab import (BOS, EOS, PAD, SPECIALS, UNK, Vocab, detokenize, tokenize,
                                  tokenize_en, tokenize_zh)

__all__ = [
    "DataUnavailableError", "data_root",
    "ImageSplit", "disc_mask", "download_mnist", "load_digits_split", "load_image_split",
    "load_mnist", "load_mnist_split", "moon_phase", "moon_phases", "nearest_phase", "read_idx",
    "shadow_fraction",
    "BatchedData", "BatchIterable", "Seq2SeqBatch", "Seq2SeqData", "lengths_to_mask",
    "pad_sequences", "pad_targets",
    "chinese_number", "english_number", "TASKS", "Pair", "generate_pairs", "get_task",
    "split_pairs", "BOS", "EOS", "PAD", "SPECIALS", "UNK", "Vocab", "detokenize", "tokenize",
    "tokenize_en", "tokenize_zh",
    "TatoebaNotFoundError", "load_tatoeba", "read_tatoeba", "references_by_source", "tatoeba_path",
    "CaptionBatch", "CaptionData", "ShapeCaptions", "generate_shapes",
]
