"""The shipped Compose layout is production: it requires every secret, and the apps believe
X-Forwarded-For from the load balancer only, which sets it to the client's own address."""

from __future__ import annotations

from typing import Any

import yaml

from bot.settings import REPO_ROOT, Settings


def _compose() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_requires_every_production_secret() -> None:
    env = _compose()["services"]["app1"]["environment"]
    for name in (
        "LINE_CHANNEL_SECRET",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "TSUNAGARI_SESSION_SECRET",
        "TSUNAGARI_SURVEY_SECRET",
        "TSUNAGARI_PSEUDONYM_SALT",
    ):
        assert f"${{{name}:?" in env[name], name  # Compose refuses to start without it


def test_apps_trust_only_the_load_balancers_forwarded_address() -> None:
    compose = _compose()
    lb_address = compose["services"]["lb"]["networks"]["default"]["ipv4_address"]
    trusted = compose["services"]["app1"]["environment"]["TSUNAGARI_FORWARDED_ALLOW_IPS"]
    assert trusted == lb_address
    assert Settings.model_fields["forwarded_allow_ips"].validation_alias == (
        "TSUNAGARI_FORWARDED_ALLOW_IPS"
    )
    nginx = compose["configs"]["nginx"]["content"]
    assert "X-Forwarded-For $$remote_addr" in nginx  # a forged header from outside is replaced
    assert "client_max_body_size" in nginx
