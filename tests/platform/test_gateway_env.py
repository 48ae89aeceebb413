"""The SDK gateway looks for a proxy once, at start: per call only when one applies."""

from __future__ import annotations

import pytest

from bot.platform.line.gateway import SdkLineGateway


async def _trusts_env(host: str) -> bool:
    gateway = SdkLineGateway(host=host, access_token="token")
    try:
        return bool(gateway._client.rest_client.pool_manager._trust_env)  # noqa: SLF001
    finally:
        await gateway.close()


async def test_no_proxy_for_line_means_no_lookups_per_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")  # http only: not for LINE
    assert not await _trusts_env("https://api.line.me")


async def test_a_proxy_for_line_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert await _trusts_env("https://api.line.me")
