"""The book's own example sentences (5.3, Fig. 5-7 and 5.3.3) and a handful of sentences like them.

Section 5.3 explains Seq2Seq with "hello world" → "你好，世界" (Fig. 5-7) and section 5.3.3 explains
attention with "hello, world is beautiful" → "你好，世界是美好的". :func:`book_example_pairs`
returns those two pairs plus a few dozen sentences built from the same pattern — greeting, subject,
"is", adjective — so that a tiny model trained for seconds really translates the book's sentences
and its attention has something to align ("beautiful" ↔ 美好). The lexicon is small and fixed; there
is no randomness.
"""

from __future__ import annotations

from companion.data.text_tasks import Pair

BOOK_FIG_5_7 = Pair("hello world", "你好，世界")
BOOK_ATTENTION_EXAMPLE = Pair("hello, world is beautiful", "你好，世界是美好的")

SUBJECTS = {
    "world": "世界",
    "life": "生活",
    "the sea": "大海",
    "the sky": "天空",
    "the city": "城市",
    "the garden": "花园",
    "music": "音乐",
    "my home": "我的家",
}
ADJECTIVES = {
    "beautiful": "美好",
    "quiet": "安静",
    "blue": "蓝色",
    "big": "巨大",
    "old": "古老",
    "new": "崭新",
}


def book_example_pairs(*, include_attention_example: bool = True) -> list[Pair]:
    """The two sentences of the book plus sentences of the same shape (all pairs, fixed order).

    Patterns: ``hello SUBJECT`` → ``你好，主语``; ``SUBJECT is ADJ`` → ``主语是形容词的``;
    ``hello, SUBJECT is ADJ`` → ``你好，主语是形容词的``. With
    ``include_attention_example=False`` the 5.3.3 sentence is left out, so a model can be asked to
    translate it without having seen it.
    """
    pairs = [Pair(f"hello {en}", f"你好，{zh}") for en, zh in SUBJECTS.items()]
    for en, zh in SUBJECTS.items():
        for adj_en, adj_zh in ADJECTIVES.items():
            pairs.append(Pair(f"{en} is {adj_en}", f"{zh}是{adj_zh}的"))
            pairs.append(Pair(f"hello, {en} is {adj_en}", f"你好，{zh}是{adj_zh}的"))
    if not include_attention_example:
        pairs.remove(BOOK_ATTENTION_EXAMPLE)
    return pairs
