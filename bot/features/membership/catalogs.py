"""Start-up checks of membership's content: the join poster and the officers' application card.

Both are Jinja templates under content/; a missing file or a syntax error stops start-up
with one line naming the file, instead of failing for the first officer or the first print.
"""

from __future__ import annotations

from jinja2 import Environment, TemplateSyntaxError

from bot.content import Content, ContentError
from bot.features.membership.qr import POSTER_DIR, POSTER_TEMPLATE

APPLICATION_CARD = ("flex", "join_application.json.j2")  # officer_flow's new-application push


def check_templates(content: Content) -> None:
    """Raise ContentError on the first missing or unparsable membership template."""
    env = Environment()
    for parts in ((POSTER_DIR, POSTER_TEMPLATE), APPLICATION_CARD):
        path = content.path(*parts)
        if not path.is_file():
            raise ContentError(f"content file missing: {path}")
        try:
            env.parse(path.read_text(encoding="utf-8"))
        except TemplateSyntaxError as exc:
            raise ContentError(f"{path}:{exc.lineno}: {exc.message}") from None
