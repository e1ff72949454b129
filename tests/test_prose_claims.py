"""The sentences of the prose that state a result are checked by ``claim(condition, text)``.

``CLAIMS`` lists, per notebook, the texts that must appear as the literal second argument of a
``claim(…)`` call in one of its code cells (read with ``ast``, no kernel). A sentence dropped from
the code, or reworded there but not here, fails the test; the notebook run in default mode (CI's
``make run-notebooks``) then checks that each one holds.
"""

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CLAIMS = {
    "5.3.1-seq2seq-encoder.ipynb": [
        "the tiny model turns “hello world” into “你好，世界”, as in the book",
        "the model with a one-directional encoder translates the book's sentence correctly too",
        "only the sentences without padding are unaffected",
        "the backward state at position T differs for every sentence longer than one token",
        "untrained, the first token moves a one-directional RNN's c under 1 % as much as the last",
        "the bidirectional encoders' c is most sensitive at both ends",
        "the CNN's and the Transformer's c weigh all positions alike, within a factor of 2",
        "with c alone the bidirectional encoders and the CNN do best",
        "with c alone the plain RNN and the Transformer do worst",
        "with attention every encoder but the CNN improves, and the CNN stays within 2 points",
        "with attention the gaps between the encoders shrink",
    ],
    "5.3.2-seq2seq-decoder.ipynb": [
        "feeding c at every step (book, Cho) beats handing it over once as the initial state",
        "Cho's variant is better than the book's zero start",
        "all three variants lose accuracy as sentences get longer",
    ],
    "5.3.3-attention.ipynb": [
        "read literally, the printed (5-22) gives every weight 1/n",
        "each of the book's rows has non-negative weights that sum to at most 1",
        "美丽 does not occur in the book's own translation, which says 美好",
        "the Fig. 5-10 pairs sum to exactly 1",
        "writing 美 the model puts at least 0.9 of its weight on beautiful, writing 是 on is",
        "some rows peak one word after the word they translate",
        "averaged over its two characters, 世界 puts more than 0.9 of its weight on O2",
        "the models with one c get some single dates right and almost no longer input",
        "their BLEU stays well below the attention model's at every length",
        "the attention model keeps exact match above 90 % and BLEU above 90 at every length",
        "summing the states raises BLEU on average but does not rescue the fixed-length decoder",
        "BLEU falls more gently than exact match",
        "most of the remaining mistakes are in years",
        "each year appears far less often in training than each month word",
        "the alignment is less than 100 %, even for an accurate translator",
        "all three scores learn the alignment (more than 75 % of the digits)",
        "the additive score is ahead of the other two on the longest inputs",
        "the dot product has no parameters",
    ],
    "5.3.4-teacher-forcing-and-beam-search.ipynb": [
        "training outputs run up to 15 words",
        "teacher forcing (ratio 1) is ahead of ratio 0 after epochs 2 and 3",
        "ratio 0 is last after two epochs",
        "the early model still makes mistakes",
        "for the teacher-forced model free running is less accurate than teacher-forced decoding",
        "within the training range most outputs have exactly the reference length",
        "beyond it all three models stall at or just above the longest training output",
        "the ceiling is practically the same whatever the ratio",
        "the ratio-0 model gets more three-number inputs exactly right",
        "greedy search misses the most probable output for some inputs",
        "a beam of 3 repairs most of these search errors at a few times greedy's cost",
        "exhaustive search needs hundreds of times more decoder work",
        "a beam of 5 changes the greedy output for some test input",
        "for the well-trained model the beam width does not matter",
        "for the early model a wider beam lowers BLEU, and the brevity penalty falls with it",
        "with a length penalty wider beams keep BP above 0.9 and score at least greedy's BLEU",
    ],
    "5.3.5-bleu.ipynb": [
        "every “the” occurs in a reference, but clipping credits only two of the seven",
        "with the 13a tokeniser the period is a seventh token, and the hypothesis has six bigrams",
        "the hypothesis “The cat” has perfect unigram and bigram precision",
        "with no matching 4-gram, unsmoothed BLEU is 0 and every smoothing lifts it above 0",
        "corpus BLEU and mean sentence BLEU agree for good systems and drift apart for poor ones",
        "for the poorest system the smoothed sentence average lies above corpus BLEU",
        "the correct paraphrase scores lower than both outputs with the wrong meaning",
        "swapping cat and mat keeps all six unigrams and four of the five bigrams",
        "a shuffle keeps every unigram but is punished through the higher orders",
        "one different character scores 0 with 13a, over 50 with one token per character",
    ],
    "5.3.6-summary-cnn-and-transformer.ipynb": [
        "beam search scores the same as greedy search here, within a point",
        "colour and shape words look at their shape over twice chance and twice the other shape",
        "the function words look at the shapes less than the colour and shape words do",
        "the captioner reads back at least 85 % of the pictures painted for held-out captions",
        "painted pictures, held-out captions or not, are read back at most 5 points less often "
        "than the true ones",
        "with about the same number of parameters, both pass the target",
        "both end above 90 % exact match and 97 BLEU, and over 70 % on four dates",
        "the GRU decodes faster than the Transformer with its cache",
        "on a CPU a GRU epoch costs less than a Transformer epoch",
        "both look at the year first, at the end of the first English date",
    ],
    "5.3.7-translator.ipynb": [
        "the length cap drops only the long tail: under 5 % of the pairs",
        "the cpu profile trains each model for two epochs",
        "beam search moves each model's BLEU by less than 3 points, up or down",
        "with and without the cache, beam search finds the same outputs with the same scores",
        "without the cache the step time grows with the output length; with it the step is faster",
    ],
}


def claim_texts(path: Path) -> list[str]:
    """The text of every ``claim(condition, "text")`` call in the notebook's code cells."""
    texts = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(
            line
            for line in "".join(cell["source"]).splitlines()
            if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.walk(ast.parse(code)):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "claim"
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
            ):
                texts.append(node.args[1].value)
    return texts


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_every_listed_sentence_is_claimed_in_its_notebook(name):
    found = claim_texts(ROOT / "notebooks" / name)
    missing = [text for text in CLAIMS[name] if text not in found]
    assert not missing, f"{name}: no claim(…) states {missing}"
