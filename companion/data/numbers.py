"""Numbers in English words and in Chinese numerals (0–9999), used by the generated tasks."""

from __future__ import annotations

from companion.validation import check_int

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_UNITS = ["千", "百", "十", ""]  # for the thousands, hundreds, tens and ones digit
MAX_NUMBER = 9999


def _check(n: int) -> None:
    check_int(n, "n", min=0, max=MAX_NUMBER)


def english_number(n: int) -> str:
    """British-style English words: 321 → 'three hundred and twenty one'."""
    _check(n)
    if n < 20:
        return _ONES[n]
    thousands, rest = divmod(n, 1000)
    hundreds, below = divmod(rest, 100)
    words: list[str] = []
    if thousands:
        words += [_ONES[thousands], "thousand"]
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if below:
        if words:
            words.append("and")
        if below < 20:
            words.append(_ONES[below])
        else:
            tens, ones = divmod(below, 10)
            words.append(_TENS[tens])
            if ones:
                words.append(_ONES[ones])
    return " ".join(words)


def chinese_number(n: int) -> str:
    """Chinese numerals with the usual rules: 10 → 十, 15 → 十五, 105 → 一百零五, 1010 → 一千零一十.

    A run of zero digits between non-zero ones is read as a single 零; trailing zeros are silent;
    a leading 一十 is shortened to 十 (only when the number is below 20).
    """
    _check(n)
    if n == 0:
        return _ZH_DIGITS[0]
    digits = [int(d) for d in f"{n:04d}"]
    out: list[str] = []
    started = False
    pending_zero = False
    for digit, unit in zip(digits, _ZH_UNITS, strict=True):
        if digit == 0:
            pending_zero = started
            continue
        if pending_zero:
            out.append(_ZH_DIGITS[0])
            pending_zero = False
        if not (digit == 1 and unit == "十" and not started):
            out.append(_ZH_DIGITS[digit])
        out.append(unit)
        started = True
    return "".join(out)
