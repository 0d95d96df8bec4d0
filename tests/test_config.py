"""Settings: strict parsing, a closed set of names, generated secrets."""
from __future__ import annotations

import stat

import pytest

from app import config, create_app


def test_unknown_setting_stops_startup_and_names_it(tmp_path):
    with pytest.raises(config.ConfigError, match="QUIETDESK_DB_KYE"):
        config.load({"QUIETDESK_DB_KYE": "x", "QUIETDESK_INSTANCE": str(tmp_path)})


@pytest.mark.parametrize("name, raw, expected", [
    ("MAX_MESSAGE_CHARS", "500", 500),
    ("ANSWER_THRESHOLD", "0.3", 0.3),
    ("LOG_LEVEL", "debug", "debug"),
    ("DB_KEY", "123456", "123456"),  # secrets stay strings even when they look numeric
])
def test_environment_values_are_parsed_by_the_defaults_type(name, raw, expected):
    assert config.load({f"QUIETDESK_{name}": raw})[name] == expected


@pytest.mark.parametrize("name, raw", [("MAX_MESSAGE_CHARS", "lots"), ("ANSWER_THRESHOLD", "high")])
def test_unparseable_value_is_refused_with_its_name(name, raw):
    with pytest.raises(config.ConfigError, match=f"QUIETDESK_{name}"):
        config.load({f"QUIETDESK_{name}": raw})


def test_test_config_overrides_environment():
    assert config.load({"QUIETDESK_MAX_MESSAGE_CHARS": "5"}, {"MAX_MESSAGE_CHARS": 7})["MAX_MESSAGE_CHARS"] == 7


def test_secrets_are_generated_once_with_owner_only_permissions(app, instance):
    key_file = instance / "db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((instance / "secret.key").stat().st_mode) == 0o600
    first = key_file.read_text()
    again = create_app({"INSTANCE": str(instance), "LAZY": True})
    assert key_file.read_text() == first
    assert again.config["DB_KEY"] == first.strip()


def test_supplied_key_is_used_and_nothing_is_generated(tmp_path):
    instance = tmp_path / "supplied"
    app = create_app({"INSTANCE": str(instance), "DB_KEY": "correct horse battery staple",
                      "SECRET_KEY": "s" * 32, "LAZY": True})
    assert app.config["DB_KEY"] == "correct horse battery staple"
    assert not (instance / "db.key").exists()
    assert not (instance / "secret.key").exists()
