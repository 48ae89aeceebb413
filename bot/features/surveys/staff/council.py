"""The surveys' part of the council report: each indicator against its target in the area and
period, its trend, and how representative the answers are (the indicator pages' own tables)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.hooks import CouncilQuery, CouncilTable, CouncilTrend
from bot.features.surveys.staff import views
from bot.features.surveys.staff.views import Period
from bot.staff.tables import council_table


def council_sections(session: Session, query: CouncilQuery) -> list[CouncilTable]:
    """Indicators, each one's waves (with its trend), and the representativeness tables."""
    settings, words = query.settings, query.words
    refs = views.indicators(session, settings.content_dir)
    if not refs:
        return []
    fig = views.figures(
        session,
        settings.content_dir,
        int(settings.survey_min_cell),
        Period(query.since, query.until),
        settings.tz,
        locale=words.locale,
    )
    caveat = words("surveys.rep.method")
    sections = [
        council_table(
            query.words,
            views.trend_table(fig, refs, query.area, words, query.locale),
            order=10,
            title=words("council.indicators"),
            sheet=words("council.sheet.indicators"),
        )
    ]
    for n, ref in enumerate(refs, start=1):
        if not fig.series(ref, query.area):
            continue
        name = views.indicator_name(ref, query.locale)
        marks = views.trend_marks(fig, ref, query.area)
        trend = CouncilTrend(
            tuple((m.label, m.value, m.low, m.high) for m in marks),
            tuple((r.value, r.label) for r in views.reference_lines(ref, words)),
            words("col.share"),
            words(views.SUPPRESSED),
        )
        sections.append(
            council_table(
                query.words,
                views.series_table(fig, ref, query.area, words, settings.tz),
                order=10 + n,
                title=words("council.indicator_trend", indicator=name),
                sheet=f"{words('council.sheet.series')}{n}",
                trend=trend,
            )
        )
        represented = views.representation_of(fig, ref, query.area, settings.content_dir)
        if represented is None:
            continue
        wave, rep = represented
        base = f"indicator-{ref.indicator.id}"
        title = f"{name}：{words('council.representativeness', wave=wave.wave_key)}"
        for table, sheet in (
            (views.estimate_table(rep, words, base), "council.sheet.estimates"),
            (views.channel_table(rep, words, base), "council.sheet.channels"),
            (views.strata_table(rep, words, base), "council.sheet.districts"),
        ):
            if sheet == "council.sheet.districts" and not table.rows:
                continue  # an association: the population is by district, nothing to compare
            sections.append(
                council_table(
                    query.words,
                    table,
                    order=10 + n,
                    title=title,
                    sheet=f"{words(sheet)}{n}",
                    note=caveat if sheet == "council.sheet.districts" else "",
                )
            )
    return sections
