"""Sentences written from data, with direction and polarity right.

For first-time entrants, reoffending, custody and remands lower is better: a rise from 36.1% to
37.6% is "a deterioration of 1.5 percentage points". Whether a difference is real is said only
when it was tested; otherwise the sentence says why it was not.

The sentences are Pandoc Markdown: every label, period and note that comes from the data is
passed through ``md_escape`` so it reads literally.
"""

from __future__ import annotations

from ..analysis import stats
from .markdown import md_escape
from ..analysis.indicators import Definition, IndicatorPeriod, fmt_number, fmt_value, interval_text

RESULT_WORDS = {
    "better": "Better",
    "similar": "Similar",
    "worse": "Worse",
    "not tested": "Not tested",
    "higher": "Higher",
    "lower": "Lower",
}
RESULT_CLASS = {
    "better": "cmp-better",
    "similar": "cmp-similar",
    "worse": "cmp-worse",
    "not tested": "cmp-none",
    "higher": "cmp-none",
    "lower": "cmp-none",
}


def result_span(result: str) -> str:
    """The comparison result as a word in a coloured span (the word is the cue; colour adds to it)."""
    return f"[{md_escape(RESULT_WORDS.get(result, result.capitalize()))}]{{.{RESULT_CLASS.get(result, 'cmp-none')}}}"


def polarity_phrase(defn: Definition) -> str:
    return {"lower_is_better": "lower is better", "higher_is_better": "higher is better"}.get(defn.polarity, "no polarity")


def change_amount(change: stats.Change, defn: Definition) -> str:
    """'1.5 percentage points', '55 per 100,000', '0.05 per 1,000'."""
    amount = abs(change.absolute)
    if defn.unit == "%":
        return f"{fmt_number(round(amount, 1))} percentage points"
    digits = 0 if defn.multiplier >= 100000 else 2
    return f"{fmt_number(round(amount, digits))} {md_escape(change.unit or defn.unit)}"


def sentence_name(defn: Definition) -> str:
    """The indicator's short name as it reads inside a sentence ('reoffending rate', 'FTE rate')."""
    name = defn.short_name
    first = name.split(" ", 1)[0]
    return name if first.isupper() else name[:1].lower() + name[1:]


def _without_prefix(reason: str | None, *prefixes: str) -> str:
    """A reason without a leading 'not tested:' so sentences do not repeat themselves."""
    text = (reason or "").strip()
    for prefix in prefixes:
        if text.lower().startswith(prefix):
            text = text[len(prefix):].lstrip(" :—-")
    return text


def describe_change(ip: IndicatorPeriod) -> str:
    """One or two sentences on the change from the previous period, or why there is none."""
    defn = ip.definition
    ch = ip.change
    if ch is None:
        return f"No change is reported: {md_escape(ip.change_note)}."
    verb = {"increase": "rose", "decrease": "fell", "no change": "was unchanged"}[ch.direction]
    name = md_escape(sentence_name(defn))
    before, after = md_escape(ip.previous_period_label), md_escape(ip.period_label)
    current = ip.value
    previous = ip.previous_value if ip.previous_value is not None else ch.previous
    if ch.direction == "no change":
        sentence = f"The {name} was unchanged at {fmt_value(current, defn)} ({before} to {after})."
    else:
        sentence = (
            f"The {name} {verb} from {fmt_value(previous, defn)} ({before}) to "
            f"{fmt_value(current, defn)} ({after}): "
            f"{'an improvement' if ch.assessment == 'improvement' else 'a deterioration'} of {change_amount(ch, defn)}"
        )
        if ch.significant is not None and ip.numerator is not None and ip.denominator is not None:
            sentence += " on the counts"
        if ch.relative is not None:
            sentence += f" ({ch.relative * 100:+.1f}% relative change)"
        sentence += f", since {polarity_phrase(defn)}."
    if ch.significant is None:
        why = _without_prefix(ip.change_note or ch.note or "counts not published", "significance not tested", "not tested")
        sentence += f" Whether this is a real change was not tested: {md_escape(why)}."
    elif ch.significant:
        sentence += f" The change is statistically significant ({ch.test}, p = {p_text(ch.p_value)})."
    else:
        sentence += (
            f" The change is not statistically significant ({ch.test}, p = {p_text(ch.p_value)}): "
            f"it is within what chance alone could produce."
        )
    if ip.published_change is not None and ch.direction != "no change":
        published = fmt_number(ip.published_change)
        computed = fmt_number(round(ch.absolute, 2))
        if published != computed:
            sentence += (
                f" The plan printed the change as {published}{'%' if defn.unit == '%' else ''}; the difference of the "
                f"two published figures is {computed} (see the data-quality appendix)."
            )
    return sentence


def p_text(p: float | None) -> str:
    """A p-value as printed: '<0.001', three decimals, or 'n/a'."""
    if p is None:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def describe_benchmark(ip: IndicatorPeriod, b) -> str:
    """A sentence comparing the area with one benchmark, in the words of the comparison result."""
    defn = ip.definition
    c = b.comparison
    label, period = md_escape(b.label), md_escape(b.period_label)
    area_value = fmt_value(ip.value, defn)
    bench_value = fmt_value(b.value, defn)
    if c.result == "not tested":
        return f"Against {label} ({bench_value}, {period}): not tested — {md_escape(_without_prefix(c.reason, 'not tested'))}."
    if c.result == "similar":
        return (
            f"{area_value} is statistically similar to {label} ({bench_value}): the {label} value lies inside the "
            f"area's {stats.significance_level_label(c.level)} interval ({interval_text(ip.estimate, defn)})."
        )
    direction = "lower" if ip.value < b.value else "higher"
    return (
        f"{area_value} is significantly {c.result} than {label} ({bench_value}): {direction}, "
        f"and {polarity_phrase(defn)}; {label} lies outside the area's {stats.significance_level_label(c.level)} "
        f"interval ({interval_text(ip.estimate, defn)})."
    )


def headline(ip: IndicatorPeriod) -> str:
    """The indicator's headline sentence: value, period, count and interval."""
    defn = ip.definition
    text = f"{md_escape(defn.name)}: **{fmt_value(ip.value, defn)}** in {md_escape(ip.period_label)}"
    if ip.numerator is not None:
        status = "" if ip.numerator_status == "published" else f" ({md_escape(ip.numerator_status)})"
        text += f" ({fmt_number(ip.numerator)} {md_escape(defn.numerator_label)}{status}"
        if ip.denominator is not None:
            dstatus = "" if ip.denominator_status == "published" else f", {md_escape(ip.denominator_status)}"
            text += f" of {fmt_number(round(ip.denominator))} {md_escape(defn.denominator_label)}{dstatus}"
        text += ")"
    if ip.estimate.has_interval:
        text += (
            f"; {stats.significance_level_label(ip.estimate.level)} interval {interval_text(ip.estimate, defn)} "
            f"({ip.estimate.method})"
        )
    else:
        text += "; no interval: the count and its denominator were not both published"
    return text + "."


def describe_trend(trend: stats.Trend) -> str:
    """One sentence on the trend, or why it cannot be calculated."""
    if trend.status != "calculated":
        return f"Trend: cannot be calculated — {md_escape(trend.reason)}."
    if trend.direction == "no significant change":
        text = f"Trend: no significant change over {trend.n_points} annual points ({trend.method}, p = {p_text(trend.p_value)})."
    else:
        text = f"Trend: significantly {trend.direction} over {trend.n_points} annual points ({trend.method}, p = {p_text(trend.p_value)})."
        # Fingertips marks trends at 99.8% too (control limits): say whether the trend holds at that level
        strict = 1 - stats.CONTROL_LEVELS[-1]
        holds = trend.p_value is not None and trend.p_value < strict
        text += f" {'It is' if holds else 'It is not'} significant at the {stats.CONTROL_LEVELS[-1] * 100:.1f}% level (p < {strict:.3f})."
    if trend.scaled and trend.dispersion is not None:
        text += (f" The counts vary more than a Poisson or binomial model allows (dispersion φ = {trend.dispersion:.1f}), so the "
                 f"test is scaled for it; unscaled it would give p = {p_text(trend.unscaled_p_value)}.")
    return text
