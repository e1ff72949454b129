"""The prose's sentences about results are checked: each is stated again as a ``claim(…)``.

A notebook's text says what its numbers show ("the curves cross by s = 0.5", "about 0.6 against
about 0.43"), and the cell that computes them restates the sentence with
:func:`companion.claims.claim`, which checks it when the notebook runs with its default
parameters (CI runs every notebook that way). ``CLAIMS`` below lists, per notebook file, the
sentences that must stay checked: the test reads the code cells with :mod:`ast` (no kernel) and
fails when one of them is no longer the text of a ``claim(…)`` call — so a check cannot be
dropped, or its sentence changed, without this list changing too; and a listed notebook's
``claim(…)`` calls must all be listed, so that the list stays the notebook's complete record.

The claim texts are English string literals (the Chinese edition translates them from the code),
kept short and identical in meaning to the sentence of the prose they check.
"""

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CLAIMS: dict[str, list[str]] = {
    "5.1-encoder-decoder-basics.ipynb": [
        "before training, the loss is within 10 % of log V",
        "more than 95 % of the held-out numbers are translated exactly",
        "dates and summaries come out exactly right more than 95 % of the time",
        "dialogue has the fewest distinct examples and the lowest exact match",
        "at least 95 % of new recordings are transcribed exactly",
        "most mistakes involve a doubled digit",
        "each digit attends to its own tone, later in the recording than the one before",
        # the dialogue's copy mechanism
        "attention leaves at least half of the c-only model's copy errors",
        "the copy mechanism at least halves the attention model's copy errors",
        "the copy mechanism also raises exact match above the attention model's",
        "the copy model answers at least 6 of the 8 new names and cities correctly, the attention "
        "model fewer",
        "p_gen is below 0.5 at the copied name and above 0.5 at every word that is not in the "
        "input",
        "no reply of the copy model repeats a word more often than its reference",
    ],
    "5.1.3-autoencoders-for-vision.ipynb": [
        "at its training noise the denoising autoencoder beats doing nothing",
        "at noise 0.5 the MSE drops from about 0.11 (noisy) to about 0.02 (denoising AE), "
        "0.07 to 0.13 (plain AE)",
        "the denoising autoencoder helps most at and above its training noise",
        "at noise 0.1 both autoencoders are worse than the noisy input; the floor is about 0.02",
        "5-NN accuracy: about 0.6 with two autoencoder numbers, about 0.43 with PCA's two",
        "the autoencoder reconstructs better than PCA",
        "raw pixels remain the best features (about 0.95)",
    ],
    "5.2.1-vae-in-brief.ipynb": [
        "all principal angles are within two degrees of zero",
        "the 4th and 5th explained variances are about 0.08 and 0.06",
        "PCA and the linear AE have the same error; the nonlinear AE's is lower",
        "both midpoints lie between the two moons in brightness (mean shadow 0.15 to 0.35)",
        "both models redraw the two training moons almost perfectly",
        "neither midpoint is a sharp moon of any phase",
        "the midpoints are nearer the 3/4-lit moon than the moon whose shadow covers 3/4",
        "the codes moved apart: the midpoint lies outside both boxes",
        "the midpoint decodes to a 3/4 moon in brightness, but not to a sharp one",
        "with no noise the plain AE reconstructs better",
        "the AE's error grows faster; the curves cross between s = 0 and s = 0.5",
        "with beta = 0 the posterior noise collapses and the KL to the prior is huge",
        "with beta = 1 and 2 the noise stays substantial",
        "more weight on the KL: codes closer to the prior, worse reconstruction",
        "both pooled dimensions are roughly standard normal, the least-used one more closely",
    ],
    "5.2.2-latent-space.ipynb": [
        "sixteen dimensions reconstruct far better than two and pay a larger KL",
        "the VAE's noisy codes reach almost every tile; a large share of the AE's sheet is empty",
        "nearest-neighbour agreement: about 0.6 to 0.7 in two dimensions, about 0.9 in sixteen",
        "the VAEs' largest step is under twice the mean; the plain AE's is larger, but far from a "
        "jump",
        "the ink rises steadily with alpha",
        "at alpha = ±1 more digits are misread than at 0, thinning more than thickening",
        # Fig. 5-4 on the moons
        "the midpoint lies more than two standard deviations from both centres",
        "reconstruction costs more than ten times as many nats as KL",
        "the shadow of the decoded moon grows steadily from the full moon's bell to the half "
        "moon's",
    ],
    "5.2.3-maximum-likelihood.ipynb": [
        "one Gaussian converges to a wide bell centred on the empty gap",
        "the two-Gaussian mixture finds the two clusters at ±3",
    ],
    "5.2.4-latent-variable-models.ipynb": [
        "the log-likelihood peaks at the true sigma = 0.3",
        "trained with (5-6) alone, the model reaches the closed-form maximum-likelihood solution",
        "the latent-variable model fits the two clusters far better than one Gaussian",
        "the learned f sends each half of the z axis to one cluster",
        "the ten-choice model gives held-out digits a far higher likelihood",
        "a classifier reads most written digits as the chosen one",
        "p(k|x) names the right digit for most held-out images",
    ],
    "5.2.5-monte-carlo.ipynb": [
        "only the density of the given x, averaged over z_j, estimates ln p(x)",
        "the log-space estimate is finite but hundreds of nats below the truth",
        "prior sampling underestimates ln p(x) at every K up to 1000",
        "the spread falls at least like 1/sqrt(K), the bias faster",
        "ten samples from the diagonal q are more accurate than a thousand from the prior",
        "prior sampling is fine for d <= 2",
        "from d = 16 on, prior sampling keeps about one sample in a thousand and falls tens of "
        "nats short",
        "the diagonal q stays within about a nat at every d",
        "the diagonal q degrades slowly, its ESS falling with d",
        "no narrower p(z) brings the estimate within 10 nats, in either form",
        "from d = 10 on, |z| is close to sqrt(d) and almost never below 1",
        "the ELBO is a few nats below the k = 5000 estimate",
        "prior sampling with as many samples stays far lower, below even the ELBO",
        "codes from the prior, narrowed or not, almost never decode near x",
        "most codes from q(z|x) decode near x",
    ],
    "5.2.6-variational-inference.ipynb": [
        "variational inference reaches the best diagonal q's ELBO",
        "the reconstruction term falls, the KL term rises, and their sum falls",
        "most of the trained encoder's ln σ² outputs are negative",
        "the importance-sampled −ln p(x) lies below the negative ELBO",
    ],
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
        "years are wrong more often than months or days",
        "each year appears far less often in training than each month word",
        "the alignment is less than 100 %, even for an accurate translator",
        "all three scores learn the alignment (more than 75 % of the digits)",
        "the additive score gets more than 85 % of the longest inputs right",
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
        "no English and no Chinese sentence appears in two splits",
        "every English test sentence decodes back from its pieces exactly",
        "every change not kept ended below the kept rows above it after three epochs",
        "the kept changes raise validation BLEU after three epochs and make an epoch at least 30 % "
        "cheaper",
        "the cpu profile trains the Transformers for three epochs (English→Chinese) and four "
        "(Chinese→English), the attention GRU for one",
        "after one epoch, in no more CPU time than the attention GRU's training, the Transformer "
        "has the higher validation BLEU",
        "beam search with the length penalty beats greedy search by more than a point for both "
        "Transformers",
        "no English output contains <unk> or a space before punctuation",
        "English→Chinese reaches 25 BLEU on the test split",
        "Chinese→English reaches 20 BLEU on the test split",
        "with and without the cache, beam search finds the same outputs with the same scores",
        "without the cache the step time grows with the output length; with it the step is faster",
    ],
}


def _code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _claim_calls(code: str) -> list[ast.Call]:
    # IPython magics and shell escapes are not Python; the claims never sit on such lines
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "claim")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "claim")
        )
    ]


def _text_argument(call: ast.Call) -> ast.expr | None:
    if len(call.args) >= 2:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg == "text"), None)


def claim_texts(path: Path) -> list[str]:
    """The sentences a notebook checks: the literal texts of its ``claim(…)`` calls."""
    texts = []
    for code in _code_cells(path):
        for call in _claim_calls(code):
            node = _text_argument(call)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)
    return texts


@pytest.mark.parametrize("notebook", sorted(CLAIMS))
def test_every_listed_sentence_is_checked_and_every_check_is_listed(notebook):
    path = ROOT / "notebooks" / notebook
    assert path.is_file(), f"{notebook} is listed in CLAIMS but does not exist"
    checked = claim_texts(path)
    missing = [text for text in CLAIMS[notebook] if text not in checked]
    assert not missing, (
        f"{notebook} no longer checks these sentences with claim(condition, text): {missing}. "
        "Restore the check, or change the prose and this list together."
    )
    unlisted = [text for text in checked if text not in CLAIMS[notebook]]
    assert not unlisted, f"add these claims of {notebook} to CLAIMS: {unlisted}"


def test_claim_texts_are_string_literals_that_can_be_translated():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for code in _code_cells(path):
            for call in _claim_calls(code):
                node = _text_argument(call)
                assert isinstance(node, ast.Constant) and isinstance(node.value, str), (
                    f"{path.name}: claim(…) at line {call.lineno} of a cell needs its sentence "
                    "as a plain string literal (no f-string, no variable), so that it can be "
                    "listed and translated"
                )
                assert node.value.strip() and node.value == node.value.strip(), (
                    f"{path.name}: claim text {node.value!r} must be a trimmed, non-empty sentence"
                )


def test_the_claim_parser_finds_calls_and_their_texts(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["claim(True, 'in prose, not code')"]},
            {
                "cell_type": "code",
                "source": [
                    "%matplotlib inline\n",
                    "from companion.claims import claim\n",
                    "claim(x > 1, 'x is large')\n",
                    "companion.claims.claim(y, text='y holds');\n",
                ],
            },
        ]
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert claim_texts(path) == ["x is large", "y holds"]
