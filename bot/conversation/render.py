"""Turn `Say` values into LINE message objects in the resident's locale."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.content import Content
from bot.conversation import postback
from bot.conversation.engine import Option, Say
from bot.conversation.labels import shorten

LABEL_LIMIT = 20
DISPLAY_TEXT_LIMIT = 300  # a postback's displayText


class Renderer:
    """Renders replies; flex templates are Jinja2 JSON files under content/flex."""

    def __init__(self, content: Content) -> None:
        self.content = content
        self._env = Environment(
            loader=FileSystemLoader(str(content.path("flex"))),
            undefined=StrictUndefined,
            autoescape=False,
        )

    def messages(self, says: Sequence[Say], locale: str) -> list[dict[str, Any]]:
        """LINE message objects for a list of replies."""
        return [self.message(say, locale) for say in says]

    def message(self, say: Say, locale: str) -> dict[str, Any]:
        """One LINE message: a flex message when the reply names a template, else text."""
        text = self.content.text(say.key, locale, **say.params)
        if say.flex:
            template = self._env.get_template(f"{say.flex}.json.j2")
            contents = json.loads(template.render(t=self._t(locale), **say.params))
            message: dict[str, Any] = {"type": "flex", "altText": text[:400], "contents": contents}
        else:
            message = {"type": "text", "text": text}
        if say.options:
            message["quickReply"] = {
                "items": [self.quick_reply(o, say, locale) for o in say.options]
            }
        return message

    def label(self, option: Option, locale: str) -> str:
        """The visible label of an option, cut at a word boundary to LINE's 20 characters."""
        return shorten(self.full_label(option, locale), LABEL_LIMIT)

    def full_label(self, option: Option, locale: str) -> str:
        """The option's label before any cut (shown as the resident's bubble when tapped)."""
        return option.label or self.content.text(option.label_key, locale, **option.label_params)

    def action(self, option: Option, say: Say, locale: str) -> dict[str, Any]:
        """The LINE action behind an option."""
        label = self.label(option, locale)
        if option.kind == "message":
            return {"type": "message", "label": label, "text": option.value or label}
        if option.kind == "location":
            return {"type": "location", "label": label}
        if option.kind == "uri":
            return {"type": "uri", "label": label, "uri": option.uri or ""}
        data = self.postback_data(option, say)
        if option.kind == "datetime":
            return {"type": "datetimepicker", "label": label, "data": data, "mode": "datetime"}
        shown = self.full_label(option, locale)[:DISPLAY_TEXT_LIMIT]
        return {"type": "postback", "label": label, "data": data, "displayText": shown}

    def quick_reply(self, option: Option, say: Say, locale: str) -> dict[str, Any]:
        """A quick-reply chip."""
        return {"type": "action", "action": self.action(option, say, locale)}

    @staticmethod
    def postback_data(option: Option, say: Say) -> str:
        """Data of a flow answer (`f`,`s`,`v`) or of an action (`a=…` already in value)."""
        if say.flow and say.step:
            return postback.encode(f=say.flow, s=say.step, v=option.value)
        return option.value

    def _t(self, locale: str) -> Any:
        def translate(key: str, **params: Any) -> str:
            return self.content.text(key, locale, **params)

        return translate
